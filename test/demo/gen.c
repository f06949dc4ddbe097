/*
 * gen.c
 *	  The demo's data generator: deterministic, messy source records of one
 *	  population (CRM, shop, app, point of sale, and a day's stream) with the
 *	  ground truth of which records belong to the same person.
 *
 * Usage: gen SEED PEOPLE NOW_EPOCH OUTDIR
 *
 * Same arguments, same bytes.  Every timestamp lies in the year before NOW;
 * the day's stream in its last 24 hours.  Files written to OUTDIR:
 *
 *	records.tsv	  record_id, source, kind, value, region	(the load: one row per identifier)
 *	truth.tsv	  record_id, person, component, source, phase, anchor_kind,
 *				  anchor_value, anchor_region, note
 *	crm.tsv		  record_id, given, family, country, tier, birthday, opt_in, org, role
 *	purchases.tsv record_id, source, occurred_at, amount, currency, store, given, family
 *	app.tsv		  record_id, given, family, signed_up_at, plan, interests
 *	events.tsv	  record_id, name, occurred_at, properties
 *	tickets.tsv	  record_id, opened_at, subject, status, priority
 *	orgs.tsv	  slug, name, parent, industry, country, employees
 *	planted.tsv	  what, kind, value, region, people, records
 *	day.sql		  the day's stream: resolve, track, ingest and set_profile calls
 *
 * "component" is the partition a correct resolver must produce: records are
 * joined when they share a value after normalisation (the generator knows
 * each value's key), except the junk values the demo blocks or cdp refuses.
 * Planted shared values (family emails, office switchboards) join different
 * people's records on purpose; planted.tsv lists them.  note says why a
 * person's records cannot all be joined (no value in common).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <time.h>

#define MAXREC_IDS 6

/* ---- deterministic random numbers (splitmix64) ---- */

static uint64_t rng_state;

static uint64_t
rnd64(void)
{
	uint64_t	z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static int
rnd(int n)
{
	return (int) (rnd64() % (uint64_t) n);
}

static double
rndf(void)
{
	return (rnd64() >> 11) * (1.0 / 9007199254740992.0);
}

static int
chance(double p)
{
	return rndf() < p;
}

static const char *
pick(const char *const *list, int n)
{
	return list[rnd(n)];
}

#define PICK(a) pick((a), (int) (sizeof(a) / sizeof((a)[0])))

/* a bijection of [0, 10^digits) so that consecutive slots look random */
static uint64_t
scramble(uint64_t slot, int digits)
{
	uint64_t	m = 1;

	for (int i = 0; i < digits; i++)
		m *= 10;
	return (slot * 7919 + 104729) % m;	/* 7919 is prime to 10 */
}

/* ---- string hash set: normalised keys (emails, phones, ids) to a node ---- */

typedef struct
{
	char	   *key;
	int			node;
} Slot;

static Slot *table;
static size_t table_size = 1 << 22;

static uint64_t
hash_str(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	return h;
}

/* the node of a key; -1 if absent (when add < 0) or the new node */
static int
key_node(const char *key, int add)
{
	size_t		i = hash_str(key) & (table_size - 1);

	while (table[i].key)
	{
		if (strcmp(table[i].key, key) == 0)
			return table[i].node;
		i = (i + 1) & (table_size - 1);
	}
	if (add < 0)
		return -1;
	table[i].key = strdup(key);
	table[i].node = add;
	return add;
}

/* ---- union-find over records and value keys ---- */

static int *uf_parent;
static int	uf_size,
			uf_cap;

static int
uf_new(void)
{
	if (uf_size == uf_cap)
	{
		uf_cap = uf_cap ? uf_cap * 2 : 1 << 20;
		uf_parent = realloc(uf_parent, sizeof(int) * uf_cap);
	}
	uf_parent[uf_size] = uf_size;
	return uf_size++;
}

static int
uf_find(int x)
{
	while (uf_parent[x] != x)
		x = uf_parent[x] = uf_parent[uf_parent[x]];
	return x;
}

static void
uf_union(int a, int b)
{
	a = uf_find(a);
	b = uf_find(b);
	if (a != b)
		uf_parent[a < b ? b : a] = a < b ? a : b;
}

/* ---- the world ---- */

enum {US, GB, FR, DE, ES, NCOUNTRY};
static const char *const country_code[] = {"US", "GB", "FR", "DE", "ES"};
static const char *const calling_code[] = {"1", "44", "33", "49", "34"};
static const char *const currency[] = {"USD", "GBP", "EUR", "EUR", "EUR"};
static const int country_weight[] = {35, 25, 15, 15, 10};

static const char *const given_names[NCOUNTRY][24] = {
	{"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
		"David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Christopher", "Karen",
	"Daniel", "Nancy", "Matthew", "Lisa"},
	{"Oliver", "Olivia", "George", "Amelia", "Harry", "Isla", "Jack", "Ava", "Jacob", "Emily",
		"Noah", "Sophie", "Charlie", "Grace", "Thomas", "Lily", "Oscar", "Freya", "William", "Chloe",
	"James", "Ella", "Alfie", "Evie"},
	{"Gabriel", "Emma", "Louis", "Jade", "Raphael", "Louise", "Jules", "Alice", "Adam", "Chloe",
		"Lucas", "Lina", "Leo", "Rose", "Hugo", "Lea", "Arthur", "Manon", "Nathan", "Camille",
	"Paul", "Juliette", "Victor", "Ines"},
	{"Ben", "Mia", "Paul", "Emma", "Jonas", "Hannah", "Elias", "Sofia", "Leon", "Anna",
		"Finn", "Lea", "Noah", "Emilia", "Luis", "Marie", "Lukas", "Lena", "Felix", "Clara",
	"Maximilian", "Laura", "Julian", "Johanna"},
	{"Hugo", "Lucia", "Martin", "Sofia", "Mateo", "Martina", "Lucas", "Maria", "Leo", "Julia",
		"Daniel", "Paula", "Alejandro", "Valeria", "Pablo", "Emma", "Manuel", "Daniela", "Alvaro", "Carla",
	"Adrian", "Alba", "Mario", "Noa"},
};
static const char *const family_names[NCOUNTRY][24] = {
	{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
		"Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
	"Thompson", "White", "Harris", "Clark"},
	{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
		"Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
	"O'Brien", "Hughes", "Edwards", "Turner"},
	{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
		"Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
	"Morel", "Girard", "Andre", "Mercier"},
	{"Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
		"Schaefer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schroeder", "Neumann", "Schwarz", "Zimmermann",
	"Braun", "Krueger", "Hofmann", "Hartmann"},
	{"Garcia", "Rodriguez", "Gonzalez", "Fernandez", "Lopez", "Martinez", "Sanchez", "Perez", "Gomez", "Martin",
		"Jimenez", "Ruiz", "Hernandez", "Diaz", "Moreno", "Munoz", "Alvarez", "Romero", "Alonso", "Gutierrez",
	"Navarro", "Torres", "Dominguez", "Vazquez"},
};

/* personal mail providers; the first of each country is gmail */
static const char *const providers[NCOUNTRY][6] = {
	{"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com"},
	{"gmail.com", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com", "outlook.com", "icloud.com"},
	{"gmail.com", "orange.fr", "free.fr", "hotmail.fr", "yahoo.fr", "laposte.net"},
	{"gmail.com", "gmx.de", "web.de", "t-online.de", "outlook.de", "icloud.com"},
	{"gmail.com", "hotmail.es", "yahoo.es", "outlook.es", "telefonica.net", "icloud.com"},
};

/* mobile prefixes (after the trunk 0 / the area code), all valid for libphonenumber */
static const char *const mobile_prefix[NCOUNTRY][6] = {
	{"212", "312", "415", "617", "202", "512"},	/* area codes; the exchange follows */
	{"7960", "7912", "7400", "7480", "7520", "7830"},
	{"60", "61", "62", "64", "65", "67"},	/* 06 xx: not 63x, 69x */
	{"151", "152", "157", "159", "176", "178"},
	{"60", "61", "62", "63", "64", "65"},
};

/* the shops' own numbers, typed at the till when a customer gives none */
static const char *const store_phone[NCOUNTRY] = {
	"(650) 253-0000", "020 7946 0000", "01 23 45 67 89", "030 1234567", "91 123 45 67"
};

typedef struct
{
	char		cc[4];
	char		nsn[32];		/* national significant number */
} Phone;

typedef struct
{
	const char *slug;
	const char *name;
	int			parent;
	const char *industry;
	int			country;
	int			employees;
	int			switchboard_habit;	/* the reception gives the office phone */
	Phone		office;
	const char *domain;
	int			people;
	int			records;		/* records carrying the office phone */
	int			phone_people;	/* people who gave it */
} Org;

static Org	orgs[200];
static int	norgs;

typedef struct
{
	int			country;
	const char *given;
	const char *family;
	int			by,
				bm,
				bd;				/* birthday */
	char	   *email;			/* personal email (as the person writes it) */
	char	   *email2;			/* a new one, for people who changed */
	int64_t		switch_at;
	char	   *work_email;
	int			org;
	int			family_id;
	int			has_phone;
	Phone		mobile;
	char		user_id[16];	/* app userId */
	char		device[20];		/* app anonymous id */
	char		card[16];		/* loyalty card */
	int			crm_id;
	int			records;
	int			day_only;
	int			gave_office_phone;
} Person;

static Person *people;
static int	npeople;
static int64_t now_epoch;

typedef struct
{
	char	   *email;
	int			country;
	int			people;
	int			records;
} Family;

static Family families[1000];
static int	nfamilies;

/* ---- output ---- */

static FILE *f_records,
		   *f_truth,
		   *f_crm,
		   *f_purchases,
		   *f_app,
		   *f_events,
		   *f_tickets,
		   *f_orgs,
		   *f_planted,
		   *f_day;

static FILE *
open_out(const char *dir, const char *name)
{
	char		path[4096];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
	{
		perror(path);
		exit(1);
	}
	return f;
}

static const char *
ts(int64_t epoch)
{
	static char buf[8][32];
	static int	n;
	time_t		t = (time_t) epoch;
	struct tm	tm;

	n = (n + 1) % 8;
	gmtime_r(&t, &tm);
	strftime(buf[n], sizeof(buf[n]), "%Y-%m-%d %H:%M:%S+00", &tm);
	return buf[n];
}

static const char *
iso(int64_t epoch)
{
	static char buf[4][32];
	static int	n;
	time_t		t = (time_t) epoch;
	struct tm	tm;

	n = (n + 1) % 4;
	gmtime_r(&t, &tm);
	strftime(buf[n], sizeof(buf[n]), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf[n];
}

/* ---- values and their keys ---- */

static char *
xstrdup_printf(const char *fmt,...)
{
	char		buf[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return strdup(buf);
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = tolower((unsigned char) *s);
}

/* the matching key cdp derives from an email we generate (see normalize_email) */
static void
email_key(const char *raw, char *key)
{
	char		buf[256],
			   *at,
			   *p,
			   *q;
	const char *s = raw;
	size_t		n;

	while (*s == ' ')
		s++;
	snprintf(buf, sizeof(buf), "%s", s);
	n = strlen(buf);
	while (n && buf[n - 1] == ' ')
		buf[--n] = 0;
	lower(buf);
	at = strrchr(buf, '@');
	*at = 0;
	if (strcmp(at + 1, "gmail.com") == 0 || strcmp(at + 1, "googlemail.com") == 0)
	{
		if ((p = strchr(buf, '+')))
			*p = 0;
		for (p = q = buf; *p; p++)
			if (*p != '.')
				*q++ = *p;
		*q = 0;
		sprintf(key, "email:%s@gmail.com", buf);
		return;
	}
	if (strcmp(at + 1, "outlook.com") == 0 || strcmp(at + 1, "hotmail.com") == 0 ||
		strcmp(at + 1, "icloud.com") == 0)
	{
		if ((p = strchr(buf, '+')))
			*p = 0;
	}
	sprintf(key, "email:%s@%s", buf, at + 1);
}

static void
phone_key(const Phone *ph, char *key)
{
	sprintf(key, "phone:+%s%s", ph->cc, ph->nsn);
}

/* is the email's key already someone's? (records it as the person's otherwise) */
static int
email_taken(const char *email, int person)
{
	char		key[300];
	int			owner;

	email_key(email, key);
	owner = key_node(key + 6, -1);	/* a second table space: the "owner" keys */
	if (owner >= 0 && owner != person)
		return 1;
	if (owner < 0)
		key_node(key + 6, person);
	return 0;
}

static void
typo(char *s)
{
	size_t		n = strlen(s);
	int			i;

	if (n < 4)
		return;
	i = 1 + rnd((int) n - 2);
	switch (rnd(3))
	{
		case 0:					/* swap two letters */
			{
				char		c = s[i];

				s[i] = s[i + 1];
				s[i + 1] = c;
			}
			break;
		case 1:					/* drop one */
			memmove(s + i, s + i + 1, n - i);
			break;
		default:				/* double one */
			memmove(s + i + 1, s + i, n - i + 1);
			break;
	}
}

/* a name as a source has it: typos, capitals */
static const char *
messy_name(const char *name, double typo_p, double upper_p, double lower_p)
{
	static char buf[4][64];
	static int	n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s", name);
	if (chance(typo_p))
		typo(buf[n]);
	if (chance(upper_p))
		for (char *p = buf[n]; *p; p++)
			*p = toupper((unsigned char) *p);
	else if (chance(lower_p))
		lower(buf[n]);
	return buf[n];
}

static void
name_part(const char *name, char *out)
{
	for (; *name; name++)
		if (isalpha((unsigned char) *name))
			*out++ = tolower((unsigned char) *name);
	*out = 0;
}

static char *
make_personal_email(int person, int provider_index)
{
	Person	   *p = &people[person];
	char		g[64],
				f[64],
				local[160];
	const char *domain = providers[p->country][provider_index];

	name_part(p->given, g);
	name_part(p->family, f);
	for (int attempt = 0;; attempt++)
	{
		switch (attempt == 0 ? rnd(5) : 5)
		{
			case 0:
				snprintf(local, sizeof(local), "%s.%s", g, f);
				break;
			case 1:
				snprintf(local, sizeof(local), "%s%s", g, f);
				break;
			case 2:
				snprintf(local, sizeof(local), "%c%s%02d", g[0], f, p->by % 100);
				break;
			case 3:
				snprintf(local, sizeof(local), "%s.%s%d", g, f, p->by);
				break;
			case 4:
				snprintf(local, sizeof(local), "%s_%s", g, f);
				break;
			default:
				snprintf(local, sizeof(local), "%s.%s%d", g, f, attempt == 1 ? 10 + rnd(90) : person + 1);
				break;
		}
		{
			char	   *email = xstrdup_printf("%s@%s", local, domain);

			if (!email_taken(email, person))
				return email;
			free(email);
		}
	}
}

static char *
make_work_email(int person)
{
	Person	   *p = &people[person];
	char		g[64],
				f[64];

	name_part(p->given, g);
	name_part(p->family, f);
	for (int attempt = 0;; attempt++)
	{
		char	   *email = attempt == 0 ? xstrdup_printf("%s.%s@%s", g, f, orgs[p->org].domain)
			: xstrdup_printf("%s.%s%d@%s", g, f, attempt + 1, orgs[p->org].domain);

		if (!email_taken(email, person))
			return email;
		free(email);
	}
}

/* an email as a source has it: case, dots, +tags, googlemail, spaces */
static const char *
messy_email(const char *email, double mess)
{
	static char buf[4][200];
	static int	n;
	char		local[160],
				domain[100];
	const char *at = strrchr(email, '@');
	int			gmail;

	n = (n + 1) % 4;
	snprintf(local, sizeof(local), "%.*s", (int) (at - email), email);
	snprintf(domain, sizeof(domain), "%s", at + 1);
	gmail = strcmp(domain, "gmail.com") == 0;
	if (gmail && chance(mess * 0.3))
	{
		/* dots moved: the same gmail mailbox */
		char		tmp[120],
				   *q = tmp;

		for (char *p = local; *p; p++)
			if (*p != '.')
				*q++ = *p;
		*q = 0;
		if (chance(0.5) && strlen(tmp) > 3)
			snprintf(local, sizeof(local), "%.3s.%s", tmp, tmp + 3);
		else
			snprintf(local, sizeof(local), "%s", tmp);
	}
	if ((gmail || strcmp(domain, "outlook.com") == 0) && chance(mess * 0.25))
	{
		static const char *const tags[] = {"shop", "orders", "newsletter", "promo", "2024"};
		size_t		len = strlen(local);

		snprintf(local + len, sizeof(local) - len, "+%s", PICK(tags));
	}
	if (gmail && chance(mess * 0.2))
		snprintf(domain, sizeof(domain), "googlemail.com");
	if (chance(mess * 0.3))
	{
		local[0] = toupper((unsigned char) local[0]);
		for (char *p = local + 1; *p; p++)
			if (p[-1] == '.' || p[-1] == '_')
				*p = toupper((unsigned char) *p);
		domain[0] = toupper((unsigned char) domain[0]);
	}
	else if (chance(mess * 0.08))
	{
		for (char *p = local; *p; p++)
			*p = toupper((unsigned char) *p);
		for (char *p = domain; *p; p++)
			*p = toupper((unsigned char) *p);
	}
	snprintf(buf[n], sizeof(buf[n]), "%s%s@%s%s", chance(mess * 0.05) ? " " : "", local, domain,
			 chance(mess * 0.05) ? " " : "");
	return buf[n];
}

static void
make_mobile(int country, int slot, Phone *ph)
{
	const char *pre = mobile_prefix[country][slot % 6];
	int			s = slot / 6;

	strcpy(ph->cc, calling_code[country]);
	switch (country)
	{
		case US:
			{
				/*
				 * exchange 201-900, but N11 and 555 moved to 95x-960 (unused
				 * otherwise, so numbers stay distinct), then the line
				 */
				int			exch = 201 + s % 700;
				int			line = (int) scramble(s / 700, 4);

				if (exch % 100 == 11)
					exch = 950 + exch / 100;
				else if (exch == 555)
					exch = 960;
				sprintf(ph->nsn, "%s%03d%04d", pre, exch, line);
				break;
			}
		case GB:
			sprintf(ph->nsn, "%s%06d", pre, (int) scramble(s, 6));
			break;
		case FR:
			sprintf(ph->nsn, "%s%07d", pre, (int) scramble(s, 7));
			break;
		case DE:
			sprintf(ph->nsn, "%s%08d", pre, (int) scramble(s, 8));
			break;
		default:
			sprintf(ph->nsn, "%s%07d", pre, (int) scramble(s, 7));
			break;
	}
}

/* a phone as a source writes it, and the region it needs (NULL: international) */
static const char *
messy_phone(const Phone *ph, int country, int international, const char **region)
{
	static char buf[4][48];
	static int	n;
	const char *s = ph->nsn;

	n = (n + 1) % 4;
	*region = international ? NULL : country_code[country];
	switch (country)
	{
		case US:
			switch (rnd(international ? 2 : 4))
			{
				case 0:
					sprintf(buf[n], "%s(%.3s) %.3s-%s", international ? "+1 " : "", s, s + 3, s + 6);
					break;
				case 1:
					sprintf(buf[n], "%s%.3s-%.3s-%s", international ? "+1 " : "", s, s + 3, s + 6);
					break;
				case 2:
					sprintf(buf[n], "%.3s.%.3s.%s", s, s + 3, s + 6);
					break;
				default:
					sprintf(buf[n], "%s", s);
					break;
			}
			break;
		case GB:
			if (international && s[0] == '2')
				sprintf(buf[n], "+44 %.2s %.4s %s", s, s + 2, s + 6);
			else if (international)
				sprintf(buf[n], rnd(3) == 0 ? "+44 (0)%.4s %s" : "+44 %.4s %s", s, s + 4);
			else if (s[0] == '2')
				sprintf(buf[n], "0%.2s %.4s %s", s, s + 2, s + 6);
			else
				sprintf(buf[n], rnd(3) == 0 ? "0%.4s%s" : "0%.4s %s", s, s + 4);
			break;
		case FR:
			if (international)
				sprintf(buf[n], "+33 %.1s %.2s %.2s %.2s %.2s", s, s + 1, s + 3, s + 5, s + 7);
			else
				sprintf(buf[n], rnd(3) == 0 ? "0%.1s.%.2s.%.2s.%.2s.%.2s" : "0%.1s %.2s %.2s %.2s %.2s",
						s, s + 1, s + 3, s + 5, s + 7);
			break;
		case DE:
			{
				int			area = s[0] == '1' ? 3 : 2;

				if (international)
					sprintf(buf[n], "+49 %.*s %s", area, s, s + area);
				else
					sprintf(buf[n], rnd(3) == 0 ? "0%.*s/%s" : "0%.*s %s", area, s, s + area);
				break;
			}
		default:
			if (international)
				sprintf(buf[n], "+34 %.3s %.2s %.2s %.2s", s, s + 3, s + 5, s + 7);
			else
				sprintf(buf[n], rnd(2) ? "%.3s %.3s %.3s" : "%s", s, s + 3, s + 6);
			break;
	}
	return buf[n];
}

/* ---- records ---- */

typedef struct
{
	const char *kind;
	char		value[200];
	const char *region;
	char		key[300];		/* "" for junk that never links */
} Ident;

typedef struct
{
	char		id[32];
	const char *source;
	int			person;
	int			day;			/* in the day's stream */
	int			nids;
	Ident		ids[MAXREC_IDS];
	int			node;
} Record;

static Record *records;
static int	nrecords,
			cap_records;

static Record *
new_record(const char *source, int person, int day, const char *fmt, int num)
{
	Record	   *r;

	if (nrecords == cap_records)
	{
		cap_records = cap_records ? cap_records * 2 : 1 << 19;
		records = realloc(records, sizeof(Record) * cap_records);
	}
	r = &records[nrecords++];
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), fmt, num);
	r->source = source;
	r->person = person;
	r->day = day;
	people[person].records++;
	return r;
}

static void
add_id(Record *r, const char *kind, const char *value, const char *region, const char *key)
{
	Ident	   *id = &r->ids[r->nids++];

	id->kind = kind;
	snprintf(id->value, sizeof(id->value), "%s", value);
	id->region = region;
	snprintf(id->key, sizeof(id->key), "%s", key ? key : "");
}

static void
add_email(Record *r, const char *email, double mess)
{
	char		key[300];

	email_key(email, key);
	add_id(r, "email", messy_email(email, mess), NULL, key);
}

static void
add_phone(Record *r, const Phone *ph, int country, int international)
{
	char		key[64];
	const char *region;
	const char *v = messy_phone(ph, country, international, &region);

	phone_key(ph, key);
	add_id(r, "phone", v, region, key);
}

/* counts of planted junk, by value */
typedef struct
{
	const char *kind;
	const char *value;
	const char *why;
	int			records;
} Junk;

static Junk junk[] = {
	{"email", "test@test.com", "blocked", 0},
	{"email", "noemail@gmail.com", "blocked", 0},
	{"email", "none@none.com", "blocked", 0},
	{"email", "n/a", "invalid", 0},
	{"email", "null", "invalid", 0},
	{"phone", "0000000000", "invalid", 0},
	{"phone", "n/a", "invalid", 0},
	{"phone", NULL, "blocked", 0},	/* the store's own number, per country */
};

static int	store_phone_records[NCOUNTRY];

static void
add_junk(Record *r, int j, int country)
{
	junk[j].records++;
	if (!junk[j].value)
		store_phone_records[country]++;
	add_id(r, junk[j].kind, junk[j].value ? junk[j].value : store_phone[country],
		   strcmp(junk[j].kind, "phone") == 0 ? country_code[country] : NULL, NULL);
}

static int64_t
rand_time(int64_t from, int64_t to)
{
	return from + (int64_t) (rndf() * (double) (to - from));
}

static double
amount(void)
{
	return (double) (500 + rnd(24000) + rnd(20000) * chance(0.1)) / 100.0;
}

/* ---- the population ---- */

static const char *const industries[] = {"retail", "software", "logistics", "finance", "healthcare", "media"};
static const char *const group_names[] = {"Northwind", "Contoso", "Globex", "Initech", "Umbrella", "Acme",
"Vandelay", "Stark", "Wayne", "Hooli", "Tyrell", "Wonka"};
static const char *const sub_names[] = {"Retail", "Logistics", "Software", "Finance", "Health", "Media"};
static const char *const cities[NCOUNTRY][3] = {
	{"New York", "Chicago", "San Francisco"}, {"London", "Manchester", "Leeds"}, {"Paris", "Lyon", "Lille"},
	{"Berlin", "Munich", "Hamburg"}, {"Madrid", "Barcelona", "Valencia"}
};

static void
slugify(const char *in, char *out)
{
	for (; *in; in++)
		*out++ = isalnum((unsigned char) *in) ? tolower((unsigned char) *in) : '-';
	*out = 0;
}

static int office_slot[NCOUNTRY];

static void
make_office_phone(int country, Phone *ph)
{
	int			s = ++office_slot[country];

	strcpy(ph->cc, calling_code[country]);
	switch (country)
	{
		case US:
			sprintf(ph->nsn, "312555%04d", 100 + s);
			break;
		case GB:
			sprintf(ph->nsn, "207946%04d", 100 + s);
			break;
		case FR:
			sprintf(ph->nsn, "14268%04d", 100 + s);
			break;
		case DE:
			sprintf(ph->nsn, "30%08d", 20000000 + s * 37);
			break;
		default:
			sprintf(ph->nsn, "915%06d", 200000 + s * 13);
			break;
	}
}

static void
make_orgs(void)
{
	for (int g = 0; g < 12; g++)
	{
		int			top = norgs++;
		char		slug[64];

		slugify(group_names[g], slug);
		orgs[top].slug = xstrdup_printf("%s-group", slug);
		orgs[top].name = xstrdup_printf("%s Group", group_names[g]);
		orgs[top].parent = -1;
		orgs[top].industry = "holding";
		orgs[top].country = g % NCOUNTRY;
		orgs[top].domain = xstrdup_printf("%s.example", slug);
		make_office_phone(orgs[top].country, &orgs[top].office);
		for (int s = 0, nsub = 2 + g % 3; s < nsub; s++)
		{
			int			sub = norgs++;
			const char *sector = sub_names[(g + s) % 6];
			int			c = (g + s) % NCOUNTRY;

			orgs[sub].slug = xstrdup_printf("%s-%s-%s", slug, sector, country_code[c]);
			lower((char *) orgs[sub].slug);
			orgs[sub].name = xstrdup_printf("%s %s %s", group_names[g], sector, country_code[c]);
			orgs[sub].parent = top;
			orgs[sub].industry = industries[(g + s) % 6];
			orgs[sub].country = c;
			orgs[sub].domain = orgs[top].domain;
			make_office_phone(c, &orgs[sub].office);
			for (int o = 0, nofs = (g + s) % 3; o < nofs; o++)
			{
				int			of = norgs++;
				char		city[64];

				slugify(cities[c][o], city);
				orgs[of].slug = xstrdup_printf("%s-%s", orgs[sub].slug, city);
				orgs[of].name = xstrdup_printf("%s %s %s", group_names[g], sector, cities[c][o]);
				orgs[of].parent = sub;
				orgs[of].industry = orgs[sub].industry;
				orgs[of].country = c;
				orgs[of].domain = orgs[top].domain;
				make_office_phone(c, &orgs[of].office);
			}
		}
	}
	/* four offices whose reception gives the switchboard for its people */
	for (int i = 0, n = 0; i < norgs && n < 4; i++)
		if (orgs[i].parent >= 0 && i % 7 == 3)
		{
			orgs[i].switchboard_habit = 1;
			n++;
		}
}

static const char *const interest_paths[] = {
	"sports/football", "sports/running", "sports/tennis", "music/jazz", "music/rock", "music/classical",
	"travel/beach", "travel/cities", "food/vegan", "food/wine", "technology/gadgets", "technology/gaming"
};

static void
make_people(void)
{
	int			mobile_slot[NCOUNTRY] = {0};

	for (int i = 0; i < npeople; i++)
	{
		Person	   *p = &people[i];
		int			w = rnd(100),
					c = 0;

		while (w >= country_weight[c])
			w -= country_weight[c++];
		p->country = c;
		p->given = given_names[c][rnd(24)];
		p->family = family_names[c][rnd(24)];
		p->by = 1950 + rnd(56);
		p->bm = 1 + rnd(12);
		p->bd = 1 + rnd(28);
		p->org = -1;
		p->family_id = -1;
		if (chance(0.12))
			p->org = rnd(norgs);
		if (chance(0.95))
			p->email = make_personal_email(i, chance(0.45) ? 0 : 1 + rnd(5));
		if (p->email && chance(0.06))
		{
			p->email2 = make_personal_email(i, rnd(6));
			p->switch_at = rand_time(now_epoch - 330 * 86400LL, now_epoch - 30 * 86400LL);
		}
		if (p->org >= 0)
		{
			p->work_email = make_work_email(i);
			orgs[p->org].people++;
		}
		p->has_phone = chance(0.8);
		make_mobile(c, mobile_slot[c]++, &p->mobile);
		snprintf(p->user_id, sizeof(p->user_id), "u%08x", (unsigned) ((uint64_t) (i + 1) * 2654435761u));
		snprintf(p->device, sizeof(p->device), "d-%012llx",
				 (unsigned long long) (((uint64_t) (i + 1) * 0x9E3779B97F4AULL) & 0xffffffffffffULL));
		snprintf(p->card, sizeof(p->card), "LC%08d", (int) scramble(i + 1, 8));
	}
	/* families sharing one email for their shop orders */
	for (int i = 0; i < npeople - 100 && nfamilies < npeople / 2000; i += 1 + rnd(1200))
	{
		Family	   *f = &families[nfamilies];
		int			size = 2 + chance(0.3);
		int			member[3] = {i, -1, -1};
		int			found = 1;
		char		g[64];

		if (people[i].family_id >= 0)
			continue;
		/* the next people of the same country (their phones are of it) */
		for (int j = i + 1; j < i + 100 && found < size; j++)
			if (people[j].country == people[i].country && people[j].family_id < 0)
				member[found++] = j;
		if (found < size)
			continue;
		name_part(people[i].family, g);
		f->email = xstrdup_printf("the.%s.family%d@gmail.com", g, 10 + rnd(90));
		if (email_taken(f->email, npeople + nfamilies))	/* owned by the family */
			continue;
		f->country = people[i].country;
		for (int k = 0; k < size; k++)
		{
			people[member[k]].family_id = nfamilies;
			people[member[k]].family = people[i].family;
		}
		f->people = size;
		nfamilies++;
	}
}

static const char *
tier_for(double r)
{
	return r < 0.6 ? "bronze" : r < 0.88 ? "silver" : "gold";
}

/* the person's email at a time (people who changed use the new one after) */
static const char *
email_at(const Person *p, int64_t t)
{
	return p->email2 && t >= p->switch_at ? p->email2 : p->email;
}

static int	crm_counter = 100000,
			order_counter = 500000,
			pos_counter = 0,
			app_counter = 0;

static void
crm_record(int person, int duplicate)
{
	Person	   *p = &people[person];
	Record	   *r;
	const char *email = p->org >= 0 && chance(0.8) ? p->work_email : p->email;
	int			office = p->org >= 0 && orgs[p->org].switchboard_habit && chance(0.1);

	if (!duplicate)
		p->crm_id = crm_counter;
	r = new_record("crm", person, 0, "CRM-%06d", crm_counter++);
	{
		char		crm_id[32];

		snprintf(crm_id, sizeof(crm_id), "%s", r->id);
		add_id(r, "external_id", crm_id, NULL, NULL);
		snprintf(r->ids[0].key, sizeof(r->ids[0].key), "crm:%s", crm_id);
	}
	if (email && chance(0.9))
		add_email(r, email, duplicate ? 1.0 : 0.3);
	if (office)
	{
		add_phone(r, &orgs[p->org].office, orgs[p->org].country, 0);
		orgs[p->org].records++;
		if (!p->gave_office_phone)
			orgs[p->org].phone_people++;
		p->gave_office_phone = 1;
	}
	else if (p->has_phone && chance(0.75))
		add_phone(r, &p->mobile, p->country, chance(0.15));
	else if (chance(0.02))
		add_junk(r, 6, p->country);
	fprintf(f_crm, "%s\t%s\t%s\t%s\t%s\t%04d-%02d-%02d\t%s\t%s\t%s\n", r->id,
			messy_name(p->given, duplicate ? 0.3 : 0.02, 0, 0),
			messy_name(p->family, duplicate ? 0.3 : 0.02, 0.03, 0), country_code[p->country],
			tier_for(rndf()), p->by, p->bm, p->bd, chance(0.55) ? "t" : "f",
			p->org >= 0 ? orgs[p->org].slug : "\\N",
			p->org >= 0 ? (chance(0.2) ? "buyer" : chance(0.5) ? "manager" : "staff") : "\\N");
	if (chance(0.08))
	{
		static const char *const subjects[] = {"Late delivery", "Refund request", "Damaged item",
		"Invoice copy", "Change of address", "Loyalty points missing"};
		static const char *const statuses[] = {"open", "pending", "closed", "closed", "closed"};
		static const char *const priorities[] = {"low", "normal", "normal", "high"};

		for (int t = 0, n = 1 + chance(0.3); t < n; t++)
			fprintf(f_tickets, "%s\t%s\t%s\t%s\t%s\n", r->id,
					ts(rand_time(now_epoch - 365 * 86400LL, now_epoch - 86400)), PICK(subjects),
					PICK(statuses), PICK(priorities));
	}
}

static void
purchase(Record *r, int64_t t, const Person *p, const char *store)
{
	fprintf(f_purchases, "%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\n", r->id, r->source, ts(t), amount(),
			currency[p->country], store, messy_name(p->given, 0.04, 0.02, 0.1),
			messy_name(p->family, 0.04, 0.02, 0.1));
}

static void
shop_order(int person, int64_t t, int day)
{
	Person	   *p = &people[person];
	Record	   *r = new_record("shop", person, day, "ORD-%07d", order_counter++);
	const char *email = email_at(p, t);

	if (p->family_id >= 0 && chance(0.5))
	{
		add_email(r, families[p->family_id].email, 0.5);
		families[p->family_id].records++;
	}
	else if (email && !chance(0.03))
		add_email(r, email, 1.0);
	else if (chance(0.5))
		add_junk(r, chance(0.6) ? 0 : 1, p->country);
	if (p->has_phone && chance(0.45))
		add_phone(r, &p->mobile, p->country, chance(0.4));
	if (!day)
		purchase(r, t, p, "web");
}

static void
app_signup(int person, int64_t t, int day)
{
	Person	   *p = &people[person];
	Record	   *r = new_record("app", person, day, "APP-%06d", ++app_counter);
	const char *email = email_at(p, now_epoch);

	add_id(r, "external_id", p->user_id, NULL, NULL);
	snprintf(r->ids[0].key, sizeof(r->ids[0].key), "user:%s", p->user_id);
	if (email && chance(0.95))
		add_email(r, email, 0.6);
	if (p->has_phone && chance(0.6))
		add_phone(r, &p->mobile, p->country, 1);
	if (chance(0.8))
	{
		add_id(r, "anonymous", p->device, NULL, NULL);
		snprintf(r->ids[r->nids - 1].key, sizeof(r->ids[0].key), "anon:%s", p->device);
	}
	if (!day)
	{
		static const char *const plans[] = {"free", "free", "free", "plus", "premium"};
		char		interests[256] = "{";
		int			n = 1 + rnd(3),
					first = rnd(12);

		for (int k = 0; k < n; k++)
			snprintf(interests + strlen(interests), sizeof(interests) - strlen(interests), "%s\"%s\"",
					 k ? "," : "", interest_paths[(first + k * 5) % 12]);
		strcat(interests, "}");
		fprintf(f_app, "%s\t%s\t%s\t%s\t%s\t%s\n", r->id, messy_name(p->given, 0.02, 0, 0.2),
				chance(0.3) ? "\\N" : messy_name(p->family, 0.02, 0, 0.2), ts(t), PICK(plans), interests);
		for (int e = 0, ne = rnd(9); e < ne; e++)
		{
			static const char *const paths[] = {"/", "/products", "/products/shoes", "/sale", "/account"};
			int64_t		et = rand_time(t, now_epoch - 86400);

			if (chance(0.2))
				fprintf(f_events, "%s\tadd_to_cart\t%s\t{\"sku\": \"SKU-%04d\"}\n", r->id, ts(et), rnd(5000));
			else
				fprintf(f_events, "%s\tpage_view\t%s\t{\"path\": \"%s\"}\n", r->id, ts(et), PICK(paths));
		}
	}
}

static void
pos_visit(int person, int64_t t, int day)
{
	Person	   *p = &people[person];
	Record	   *r = new_record("pos", person, day, "POS-%07d", ++pos_counter);
	int			card = (int) (hash_str(p->card) % 100) < 65;	/* a card holder or not */

	if (card && chance(0.95))
	{
		add_id(r, "loyalty_card", p->card, NULL, NULL);
		snprintf(r->ids[0].key, sizeof(r->ids[0].key), "card:%s", p->card);
	}
	if (chance(0.55))
	{
		double		j = rndf();

		if (j < 0.04)
			add_junk(r, 7, p->country);
		else if (j < 0.06)
			add_junk(r, 5, p->country);
		else if (j < 0.08)
			add_junk(r, 6, p->country);
		else if (p->has_phone)
			add_phone(r, &p->mobile, p->country, 0);
	}
	if (chance(0.15))
	{
		double		j = rndf();

		if (j < 0.2)
			add_junk(r, 4, p->country);
		else if (j < 0.3)
			add_junk(r, 3, p->country);
		else if (j < 0.4)
			add_junk(r, 2, p->country);
		else if (email_at(p, t))
			add_email(r, email_at(p, t), 0.8);
	}
	if (!day)
	{
		static const char *const stores[NCOUNTRY][2] = {{"nyc-soho", "chicago-loop"}, {"london-soho", "leeds"},
		{"paris-marais", "lyon"}, {"berlin-mitte", "munich"}, {"madrid-sol", "barcelona"}};

		purchase(r, t, p, stores[p->country][rnd(2)]);
	}
}

/* ---- the day's stream ---- */

static void
json_ids(Record *r, char *out, size_t size, int validated_otp)
{
	size_t		n = 0;

	n += snprintf(out + n, size - n, "[");
	for (int i = 0; i < r->nids; i++)
	{
		Ident	   *id = &r->ids[i];

		n += snprintf(out + n, size - n, "%s{\"kind\": \"%s\", \"value\": \"%s\"%s%s%s%s}", i ? ", " : "",
					  id->kind, id->value, id->region ? ", \"region\": \"" : "", id->region ? id->region : "",
					  id->region ? "\"" : "",
					  validated_otp && strcmp(id->kind, "phone") == 0 ? ", \"validated\": \"otp\"" : "");
	}
	snprintf(out + n, size - n, "]");
}

static int	msg_counter;

static void
day_stream(void)
{
	char		ids[2048];
	int			nday = npeople / 30;
	int64_t		start = now_epoch - 86400;

	fprintf(f_day, "-- The day's stream, one statement per transaction (generated by gen.c).\n"
			"SET client_min_messages = warning;\n");
	for (int k = 0; k < nday; k++)
	{
		int64_t		t = start + (int64_t) k * 86400 / nday;
		int			person = rnd(npeople);
		double		what;
		Person	   *p;

		/* a fifth of the day's people are new: not in any source yet */
		if (chance(0.2))
			for (int tries = 0; tries < 50 && !people[person].day_only; tries++)
				person = rnd(npeople);
		what = rndf();
		/* the CRM agent's updates are about people who changed email */
		if (what >= 0.9 && what < 0.95)
			for (int tries = 0; tries < 200 && !(people[person].email2 && people[person].crm_id); tries++)
				person = rnd(npeople);
		p = &people[person];

		if (what < 0.3)
		{
			Record	   *r;

			/* a shop order, resolved as it comes in */
			shop_order(person, t, 1);
			r = &records[nrecords - 1];
			json_ids(r, ids, sizeof(ids), 0);
			if (r->nids == 0)
				continue;
			fprintf(f_day, "SELECT cdp.resolve($j$%s$j$, 'shop', on_invalid => 'skip');\n", ids);
		}
		else if (what < 0.55)
		{
			Record	   *r;

			/* a till purchase: track resolves and records the event */
			pos_visit(person, t, 1);
			r = &records[nrecords - 1];
			for (int i = 0, keyed = 0; i <= r->nids; i++)
				if (i == r->nids && !keyed)
					goto next;	/* the till had nothing usable: no event */
				else if (i < r->nids)
					keyed |= r->ids[i].key[0] != 0;
			json_ids(r, ids, sizeof(ids), 0);
			fprintf(f_day, "SELECT cdp.track($j$%s$j$, 'purchase', '{\"amount\": %.2f, \"currency\": \"%s\", \"channel\": \"store\"}', '%s', 'pos');\n",
					ids, amount(), currency[p->country], ts(t));
		}
		else if (what < 0.9)
		{
			/* the app's event collector: Segment-spec messages in a batch */
			Record	   *r = new_record("ingest", person, 1, "MSG-%06d", ++msg_counter);
			const char *email = email_at(p, now_epoch);
			int			anon_only = chance(0.25);
			char		anon[32];

			snprintf(anon, sizeof(anon), "w-%08x", (unsigned) rnd64());
			fprintf(f_day, "SELECT cdp.ingest($j$[");
			if (anon_only)
			{
				/* a visitor browsing, then signing in: alias links them */
				add_id(r, "anonymous", anon, NULL, NULL);
				snprintf(r->ids[0].key, sizeof(r->ids[0].key), "anon:%s", anon);
				fprintf(f_day, "{\"type\": \"page\", \"anonymousId\": \"%s\", \"name\": \"Sale\", \"messageId\": \"m-%d-1\", \"timestamp\": \"%s\"}, ",
						anon, msg_counter, iso(t));
				fprintf(f_day, "{\"type\": \"alias\", \"previousId\": \"%s\", \"userId\": \"%s\", \"messageId\": \"m-%d-2\", \"timestamp\": \"%s\"}",
						anon, p->user_id, msg_counter, iso(t + 60));
			}
			else
			{
				const char *plan = chance(0.3) ? "premium" : "plus";

				fprintf(f_day, "{\"type\": \"identify\", \"userId\": \"%s\", \"messageId\": \"m-%d-1\", \"timestamp\": \"%s\", \"traits\": {",
						p->user_id, msg_counter, iso(t));
				if (email)
				{
					char		key[300];

					email_key(email, key);
					add_id(r, "email", email, NULL, key);
					fprintf(f_day, "\"email\": \"%s\", ", email);
				}
				fprintf(f_day, "\"firstName\": \"%s\", \"lastName\": \"%s\", \"plan\": \"%s\"}}, ",
						p->given, p->family, plan);
				fprintf(f_day, "{\"type\": \"track\", \"userId\": \"%s\", \"event\": \"add_to_cart\", \"messageId\": \"m-%d-2\", \"timestamp\": \"%s\", \"properties\": {\"sku\": \"SKU-%04d\"}}",
						p->user_id, msg_counter, iso(t + 30), rnd(5000));
				/* collectors redeliver: the same messageId again is stored once */
				if (chance(0.1))
					fprintf(f_day, ", {\"type\": \"track\", \"userId\": \"%s\", \"event\": \"add_to_cart\", \"messageId\": \"m-%d-2\", \"timestamp\": \"%s\", \"properties\": {\"sku\": \"SKU-0000\"}}",
							p->user_id, msg_counter, iso(t + 30));
			}
			add_id(r, "external_id", p->user_id, NULL, NULL);
			snprintf(r->ids[r->nids - 1].key, sizeof(r->ids[0].key), "user:%s", p->user_id);
			fprintf(f_day, "]$j$);\n");
		}
		else if (what < 0.95 && p->email2 && p->crm_id)
		{
			/*
			 * The CRM: an agent adds a customer's new email beside the old
			 * one, which joins what the sources had kept apart.
			 */
			Record	   *r = new_record("crm", person, 1, "CRM-%06d", p->crm_id);
			char		key[300];

			add_id(r, "external_id", r->id, NULL, NULL);
			snprintf(r->ids[0].key, sizeof(r->ids[0].key), "crm:%s", r->id);
			snprintf(r->id, sizeof(r->id), "CRM-UPD-%06d", k);
			email_key(p->email, key);
			add_id(r, "email", p->email, NULL, key);
			email_key(p->email2, key);
			add_id(r, "email", p->email2, NULL, key);
			if (p->has_phone)
				add_phone(r, &p->mobile, p->country, 1);
			json_ids(r, ids, sizeof(ids), 0);
			fprintf(f_day, "SELECT cdp.resolve($j$%s$j$, 'crm');\n", ids);
		}
		else
		{
			/* the CRM: a customer moves up a tier */
			if (p->crm_id == 0)
				continue;
			fprintf(f_day, "SELECT cdp.set_profile(cdp.find_contact('external_id', 'CRM-%06d'), 'customer', '{\"tier\": \"%s\"}', 'crm');\n",
					p->crm_id, chance(0.6) ? "gold" : "silver");
		}
next:	;
	}
}

/* ---- main ---- */

int
main(int argc, char **argv)
{
	const char *dir;
	int			nload;

	if (argc != 5)
	{
		fprintf(stderr, "usage: %s SEED PEOPLE NOW_EPOCH OUTDIR\n", argv[0]);
		return 2;
	}
	rng_state = strtoull(argv[1], NULL, 10);
	npeople = atoi(argv[2]);
	now_epoch = strtoll(argv[3], NULL, 10);
	dir = argv[4];
	if (npeople < 100 || npeople > 2000000)
	{
		fprintf(stderr, "PEOPLE must be between 100 and 2000000\n");
		return 2;
	}
	table = calloc(table_size, sizeof(Slot));
	people = calloc(npeople, sizeof(Person));
	f_records = open_out(dir, "records.tsv");
	f_truth = open_out(dir, "truth.tsv");
	f_crm = open_out(dir, "crm.tsv");
	f_purchases = open_out(dir, "purchases.tsv");
	f_app = open_out(dir, "app.tsv");
	f_events = open_out(dir, "events.tsv");
	f_tickets = open_out(dir, "tickets.tsv");
	f_orgs = open_out(dir, "orgs.tsv");
	f_planted = open_out(dir, "planted.tsv");
	f_day = open_out(dir, "day.sql");

	make_orgs();
	make_people();

	/* the year's records, person by person */
	for (int i = 0; i < npeople; i++)
	{
		Person	   *p = &people[i];
		int			any = 0;

		if (chance(0.03))
		{
			p->day_only = 1;	/* first seen in the day's stream */
			continue;
		}
		if (p->org >= 0 || chance(0.38))
		{
			crm_record(i, 0);
			if (chance(0.04))
				crm_record(i, 1);	/* entered twice */
			any = 1;
		}
		if (chance(0.5) || (!any && chance(0.6)))
		{
			for (int n = 1 + (chance(0.5) ? rnd(5) : 0); n > 0; n--)
				shop_order(i, rand_time(now_epoch - 365 * 86400LL, now_epoch - 86400), 0);
			any = 1;
		}
		if (chance(0.3))
		{
			app_signup(i, rand_time(now_epoch - 365 * 86400LL, now_epoch - 86400), 0);
			any = 1;
		}
		if (chance(0.25) || !any)
			for (int n = 1 + rnd(4); n > 0; n--)
				pos_visit(i, rand_time(now_epoch - 365 * 86400LL, now_epoch - 86400), 0);
	}
	nload = nrecords;
	day_stream();

	/* the partition a correct resolver produces */
	for (int r = 0; r < nrecords; r++)
		records[r].node = uf_new();
	/* key nodes live in a second space of the table: prefix "k|" */
	for (int r = 0; r < nrecords; r++)
		for (int i = 0; i < records[r].nids; i++)
		{
			char		k[310];
			int			node;

			if (!records[r].ids[i].key[0])
				continue;
			snprintf(k, sizeof(k), "k|%s", records[r].ids[i].key);
			node = key_node(k, -1);
			if (node < 0)
				node = key_node(k, uf_new());
			uf_union(records[r].node, node);
		}

	/*
	 * No value may be shared by two people unless it was planted (a family
	 * email, an office phone): the ground truth relies on it.
	 */
	{
		int			unplanted = 0;

		for (int r = 0; r < nrecords; r++)
			for (int i = 0; i < records[r].nids; i++)
			{
				char		k[310];
				int			owner;
				Person	   *p = &people[records[r].person];

				if (!records[r].ids[i].key[0])
					continue;
				snprintf(k, sizeof(k), "p|%s", records[r].ids[i].key);
				owner = key_node(k, records[r].person);
				if (owner != records[r].person && !(p->family_id >= 0 && people[owner].family_id == p->family_id)
					&& !(p->org >= 0 && people[owner].org == p->org && p->gave_office_phone))
				{
					if (unplanted++ < 5)
						fprintf(stderr, "gen: %s shared by people %d and %d\n", k + 2, owner + 1,
								records[r].person + 1);
				}
			}
		if (unplanted)
		{
			fprintf(stderr, "gen: %d values shared by people by accident\n", unplanted);
			return 1;
		}
	}

	/* person-level notes: why some of a person's records cannot be joined */
	{
		int		   *first = malloc(sizeof(int) * npeople);
		int		   *split = calloc(npeople, sizeof(int));

		for (int i = 0; i < npeople; i++)
			first[i] = -1;
		for (int r = 0; r < nrecords; r++)
		{
			int			keyed = 0;

			for (int i = 0; i < records[r].nids; i++)
				keyed |= records[r].ids[i].key[0] != 0;
			if (!keyed)
				continue;
			if (first[records[r].person] < 0)
				first[records[r].person] = uf_find(records[r].node);
			else if (first[records[r].person] != uf_find(records[r].node))
				split[records[r].person] = 1;
		}
		for (int r = 0; r < nrecords; r++)
		{
			Record	   *rec = &records[r];
			Person	   *p = &people[rec->person];
			int			keyed = 0;
			const char *note;

			for (int i = 0; i < rec->nids; i++)
				keyed |= rec->ids[i].key[0] != 0;
			if (!keyed)
				note = "no usable identifier";
			else if (split[rec->person])
				note = p->email2 ? "changed email, records share no identifier"
					: "records share no identifier";
			else
				note = "\\N";
			if (!rec->day)
				for (int i = 0; i < rec->nids; i++)
					fprintf(f_records, "%s\t%s\t%s\t%s\t%s\n", rec->id, rec->source, rec->ids[i].kind,
							rec->ids[i].value, rec->ids[i].region ? rec->ids[i].region : "\\N");
			{
				/* the day's records are found again by a valid identifier */
				Ident	   *anchor = NULL;

				for (int i = 0; i < rec->nids && rec->day; i++)
					if (rec->ids[i].key[0])
					{
						anchor = &rec->ids[i];
						break;
					}
				fprintf(f_truth, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", rec->id, rec->person + 1,
						keyed ? uf_find(rec->node) : -1, rec->source, rec->day ? "day" : "load",
						anchor ? anchor->kind : "\\N", anchor ? anchor->value : "\\N",
						anchor && anchor->region ? anchor->region : "\\N", note);
			}
		}
		free(first);
		free(split);
	}

	for (int i = 0; i < norgs; i++)
		fprintf(f_orgs, "%s\t%s\t%s\t%s\t%s\t%d\n", orgs[i].slug, orgs[i].name,
				orgs[i].parent >= 0 ? orgs[orgs[i].parent].slug : "\\N",
				orgs[i].industry, country_code[orgs[i].country], 20 + orgs[i].people * 40);
	for (int i = 0; i < nfamilies; i++)
		fprintf(f_planted, "shared family email\temail\t%s\t\\N\t%d\t%d\n", families[i].email, families[i].people,
				families[i].records);
	for (int i = 0; i < norgs; i++)
		if (orgs[i].switchboard_habit)
		{
			const char *region;

			fprintf(f_planted, "shared office phone (%s)\tphone\t%s\t\\N\t%d\t%d\n", orgs[i].slug,
					messy_phone(&orgs[i].office, orgs[i].country, 1, &region), orgs[i].phone_people, orgs[i].records);
		}
	for (int j = 0; j < (int) (sizeof(junk) / sizeof(junk[0])); j++)
		if (junk[j].value)
			fprintf(f_planted, "junk (%s)\t%s\t%s\t\\N\t\\N\t%d\n", junk[j].why, junk[j].kind, junk[j].value,
					junk[j].records);
		else
			for (int c = 0; c < NCOUNTRY; c++)
				fprintf(f_planted, "junk (%s: a store's own number)\tphone\t%s\t%s\t\\N\t%d\n", junk[j].why,
						store_phone[c], country_code[c], store_phone_records[c]);

	fprintf(stderr, "gen: %d people, %d records (%d in the load, %d in the day), %d organizations, %d families\n",
			npeople, nrecords, nload, nrecords - nload, norgs, nfamilies);
	fclose(f_records);
	fclose(f_truth);
	fclose(f_crm);
	fclose(f_purchases);
	fclose(f_app);
	fclose(f_events);
	fclose(f_tickets);
	fclose(f_orgs);
	fclose(f_planted);
	fclose(f_day);
	return 0;
}
