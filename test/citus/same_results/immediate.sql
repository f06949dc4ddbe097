-- immediate.sql: writes that move contacts in and out of the immediate
-- segments (imm_vip, imm_tech, imm_org) at commit; a rolled back one moves
-- nobody.
BEGIN;
SELECT cdp.tag('contact', cdp.find_contact('email', 'a-p27@example.com'), 'VIP');
SELECT cdp.set_profile(cdp.find_contact('email', 'a-p27@example.com'), 'customer', '{"ltv": 500}');
COMMIT;
BEGIN;
SELECT cdp.tag('contact', cdp.find_contact('email', 'a-p37@example.com'), 'VIP');
SELECT cdp.set_profile(cdp.find_contact('email', 'a-p37@example.com'), 'customer', '{"ltv": 900}');
ROLLBACK;
SELECT cdp.resolve('[{"kind": "phone", "value": "+44 20 7946 0999", "validated": "otp"},
                     {"kind": "email", "value": "a-p31@example.com"}]', 'tap');
SELECT cdp.create_document('invoice', cdp.find_contact('email', 'a-p116@example.com'), '{"total": 1}', 'INV-a-116b');
SELECT cdp.archive('contact', cdp.find_contact('email', 'a-p124@example.com'));
SELECT cdp.add_member(cdp.find_contact('email', 'a-p33@example.com'), 'acme-uk', 'clerk');
SELECT cdp.untag('contact', cdp.find_contact('email', 'a-p57@example.com'), 'VIP');
