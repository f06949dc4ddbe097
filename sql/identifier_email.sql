-- Email normalisation: trimming, NFC, case, IDNA and provider rules.
SELECT cdp.normalize_email('  José@Bücher.example ');
SELECT cdp.normalize_email('J.a.n.e+news@GoogleMail.com');
SELECT cdp.normalize_email('a@b@c.com');
