-- pgTAP contracts of the identifier layer: error SQLSTATEs and messages.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(2);
SELECT throws_ok($$SELECT cdp.normalize_email('a@b@c.com')$$, '22023',
    'invalid email address: "a@b@c.com"', 'two @ outside quotes is refused');
SELECT is(cdp.is_valid_identifier('email', 'a@b@c.com'), false, 'is_valid_identifier says false');
SELECT * FROM finish();
ROLLBACK;
