# read_view.py: a BI back end reading cdp with psycopg2 and pandas.read_sql,
# run by test/t/clients.sh; prints one "ok - …" or "not ok - …" line per check.
import os
import select
import sys
import traceback
import warnings

import pandas
import psycopg2
import psycopg2.extensions

env = os.environ
failed = 0

# psycopg2 reads numeric as Decimal (an object column in pandas); a BI back
# end that wants float64 registers the cast, as this one does.
DEC2FLOAT = psycopg2.extensions.new_type(
    psycopg2.extensions.DECIMAL.values, 'DEC2FLOAT',
    lambda value, cur: float(value) if value is not None else None)
psycopg2.extensions.register_type(DEC2FLOAT)


def check(cond, what, diag=None):
    global failed
    if cond:
        print('ok - python: %s' % what)
    else:
        failed += 1
        print('not ok - python: %s' % what)
        if diag is not None:
            print('# %r' % (diag,))


try:
    conn = psycopg2.connect(env['CDP_READER_URL'])
    cur = conn.cursor()
    cur.execute('SELECT current_user, inet_server_addr() IS NOT NULL')
    who = cur.fetchone()
    check(who == (env['CDP_LOGIN'], True), 'connected over TCP as the login role granted cdp_reader', who)
    conn.rollback()

    with warnings.catch_warnings():
        # pandas prefers SQLAlchemy; a DBAPI2 connection works and warns
        warnings.simplefilter('ignore', UserWarning)
        df = pandas.read_sql('SELECT * FROM cdp_views.%s ORDER BY id' % env['CDP_VIEW'], conn,
                             parse_dates=['customer.birthday'])
    conn.rollback()
    dt = df.dtypes
    check(len(df) == 2, 'pandas.read_sql reads the view (one row per member)', len(df))
    check(str(dt['id']) == 'int64' and str(dt['count(events.purchase)']) == 'int64',
          'bigint columns are int64', (dt['id'], dt['count(events.purchase)']))
    check(str(dt['customer.ltv']) == 'float64' and 1234.5 in list(df['customer.ltv']),
          'a number attribute is float64', dt['customer.ltv'])
    check(str(dt['customer.birthday']).startswith('datetime64')
          and str(df.loc[df['given_name'] == 'Alice', 'customer.birthday'].iloc[0].date()) == '1990-05-01',
          'a date attribute is datetime64', dt['customer.birthday'])
    since = df.loc[df['given_name'] == 'Alice', 'customer.since'].iloc[0]
    check(str(dt['customer.since']).startswith('datetime64') and since.isoformat().startswith('2024-03-01T12:00:00'),
          'a datetime attribute is datetime64 with its time zone', (dt['customer.since'], since))
    tags = df.loc[df['given_name'] == 'Alice', 'tags'].iloc[0]
    check(isinstance(tags, list) and tags == ['Beta', 'VIP/Gold'], 'tags are lists of paths', tags)

    # The change feed: LISTEN here, commit a change on another connection.
    conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    cur = conn.cursor()
    cur.execute('LISTEN cdp_changes')
    writer = psycopg2.connect(env['CDP_WRITER_URL'])
    wcur = writer.cursor()
    if env.get('CDP_FEED') == 'real':
        wcur.execute("SELECT cdp.set_profile(%s, 'customer', '{\"tier\": \"gold\"}')", (int(env['CDP_CONTACT']),))
    else:
        wcur.execute('NOTIFY cdp_changes')
    writer.commit()
    writer.close()
    notes = []
    if select.select([conn], [], [], 10) != ([], [], []):
        conn.poll()
        notes = list(conn.notifies)
    check(len(notes) >= 1 and notes[0].channel == 'cdp_changes',
          'receives NOTIFY cdp_changes of a change another connection commits (%s)'
          % ('cdp.set_profile' if env.get('CDP_FEED') == 'real' else 'a manual NOTIFY'), notes)
    conn.close()
except Exception:
    print('not ok - python: the script ran to the end')
    print('# ' + traceback.format_exc().replace('\n', '\n# '))
    failed += 1

sys.exit(1 if failed else 0)
