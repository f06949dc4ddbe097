-- The typed table generated for a profile with every data type and every
-- validation, the errors of set_profile, and an attribute added later.
\set SHOW_CONTEXT never
SELECT cdp.define_profile('regress_every_type', 'contact', '[
  {"slug": "tier", "type": "text", "title": "Tier", "options": ["bronze", "silver", "gold"]},
  {"slug": "nickname", "type": "text", "min_length": 2, "max_length": 20, "pattern": "^[A-Za-z ]+$"},
  {"slug": "age", "type": "integer", "min": 0, "max": 150, "required": true},
  {"slug": "rating", "type": "integer", "options": [1, 2, 3, 4, 5]},
  {"slug": "balance", "type": "number", "min": -1000.5, "max": 1e6, "decimals": 2},
  {"slug": "newsletter", "type": "boolean"},
  {"slug": "birthday", "type": "date", "min": "1900-01-01", "max": "2100-12-31"},
  {"slug": "last_order", "type": "datetime", "min": "2000-01-01T00:00:00Z"},
  {"slug": "wake_up", "type": "time", "min": "05:00", "max": "12:00"},
  {"slug": "work_email", "type": "email", "max_length": 100, "pattern": "@example\\.com$"},
  {"slug": "mobile", "type": "phone", "options": ["+14155550100", "+442071838750"]},
  {"slug": "home", "type": "location"},
  {"slug": "avatar", "type": "media", "max_length": 2048},
  {"slug": "settings", "type": "json"},
  {"slug": "interests", "type": "text", "array": true, "options": ["sports", "music"]},
  {"slug": "scores", "type": "integer", "array": true, "min": 1, "max": 10},
  {"slug": "prices", "type": "number", "array": true, "decimals": 2},
  {"slug": "aliases", "type": "text", "array": true, "min_length": 1, "max_length": 10, "pattern": "^[a-z]+$"},
  {"slug": "visits", "type": "date", "array": true},
  {"slug": "places", "type": "location", "array": true},
  {"slug": "order", "type": "text"}
]', 'Every type');
\d cdp_data.profile_regress_every_type
SELECT slug, title, data_type, is_array, is_required, validations
  FROM cdp.attributes WHERE owner_slug = 'regress_every_type' ORDER BY position;

INSERT INTO cdp.contacts (given_name) VALUES ('Regress') RETURNING id AS c \gset
SELECT cdp.set_profile(:c, 'regress_every_type', '{
  "tier": "gold", "nickname": "Ann", "age": 41, "rating": 5, "balance": 12.50, "newsletter": true,
  "birthday": "1983-04-05", "last_order": "2024-05-06T07:08:09Z", "wake_up": "06:30",
  "work_email": "Ann.Smith@Example.com", "mobile": "+1 415 555 0100", "home": {"type": "Point", "coordinates": [2.35, 48.85]},
  "avatar": "dam://images/ann.png", "settings": {"theme": "dark"}, "interests": ["music"], "scores": [3, 7],
  "prices": [1.5, 2.25], "aliases": ["annie"], "visits": ["2024-01-01"], "places": [[2.35, 48.85], {"lat": 51.5, "lon": -0.12}],
  "order": "first"}', 'regress');
SET timezone = 'UTC';
SELECT tier, nickname, age, rating, balance, newsletter, birthday, last_order, wake_up, work_email, mobile, home,
       avatar, settings, interests, scores, prices, aliases, visits, places, "order", source
  FROM cdp_data.profile_regress_every_type WHERE contact_id = :c \gx

-- errors name the profile, the attribute and the value
SELECT cdp.set_profile(:c, 'regress_every_type', '{"colour": "red"}');
SELECT cdp.set_profile(:c, 'regress_every_type', '{"age": "forty"}');
SELECT cdp.set_profile(:c, 'regress_every_type', '{"newsletter": 1}');
SELECT cdp.set_profile(:c, 'regress_every_type', '{"birthday": "1850-01-01"}');
SELECT cdp.set_profile(:c, 'regress_every_type', '{"work_email": "ann@other.org"}');
SELECT cdp.set_profile(:c, 'regress_every_type', '{"mobile": "+12025550143"}');
SELECT cdp.set_profile(:c, 'regress_every_type', '{"home": {"lat": 91, "lon": 0}}');
SELECT cdp.set_profile(:c, 'regress_every_type', '{"interests": ["cooking"]}');
SELECT cdp.set_profile(:c, 'regress_every_type', '{"scores": [[1, 2], [3, 4]]}');
SELECT cdp.set_profile(:c, 'regress_every_type', '{"interests": "music"}');
SELECT cdp.set_profile(:c, 'regress_every_type', '{"age": null}');

-- adding an attribute: a new column with its constraints, no rewrite
SELECT cdp.alter_profile('regress_every_type', add => '[{"slug": "lucky", "type": "integer", "options": [7, 13]}]');
\d cdp_data.profile_regress_every_type
SELECT cdp.drop_profile('regress_every_type');
