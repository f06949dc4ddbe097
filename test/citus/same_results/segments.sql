-- segments.sql: saved segments covering every condition kind of the segment
-- language (src/segment/segment_ast.h: comparisons, in, between, like and
-- ilike, contains, is null, now(), contact fields, tag, tag under, taxonomy
-- is and under, has profile, has kind, has validated kind, organization( ),
-- an organization profile's shorthand, organization under, document with and
-- without conditions, event with where, count and within, in segment, and,
-- or, not), three of them immediate.  test/t/citus.sh evaluates each at
-- 2025-07-01 (members, count, in_segment, explain_segment) and EXPLAINs it.
SELECT cdp.create_segment(slug, definition, refresh => refresh)
  FROM (VALUES
    ('cmp_eq',         $$customer.tier = 'gold'$$, 'manual'),
    ('cmp_ne',         $$customer.tier != 'gold'$$, 'manual'),
    ('cmp_gt',         $$customer.ltv > 800$$, 'manual'),
    ('cmp_le',         $$customer.age <= 30$$, 'manual'),
    ('cmp_bool',       $$customer.vip = true$$, 'manual'),
    ('in_list',        $$customer.tier in ('gold', 'silver')$$, 'manual'),
    ('not_in_list',    $$customer.age not in (20, 21, 22)$$, 'manual'),
    ('between',        $$customer.ltv between 100 and 900$$, 'manual'),
    ('not_between',    $$customer.ltv not between 100 and 900$$, 'manual'),
    ('like',           $$customer.billing like 'A-P1%'$$, 'manual'),
    ('ilike',          $$customer.billing ilike 'a-p%@example.com'$$, 'manual'),
    ('contains',       $$customer.topics contains 'ai'$$, 'manual'),
    ('is_null',        $$customer.birthday is null$$, 'manual'),
    ('is_not_null',    $$customer.birthday is not null$$, 'manual'),
    ('now_cmp',        $$customer.birthday < now() - interval '35 years'$$, 'manual'),
    ('contact_field',  $$contact.given_name like 'Given%' or contact.type = 'lead'$$, 'manual'),
    ('tag',            $$tag 'VIP'$$, 'manual'),
    ('tag_under',      $$tag under 'Technology'$$, 'manual'),
    ('term_is',        $$interests is 'sports/football'$$, 'manual'),
    ('term_under',     $$interests under 'sports'$$, 'manual'),
    ('has_profile',    $$has profile customer$$, 'manual'),
    ('has_kind',       $$has external_id$$, 'manual'),
    ('has_validated',  $$has validated phone$$, 'manual'),
    ('org',            $$organization(company.industry = 'retail' and organization.name ilike 'acme%')$$, 'manual'),
    ('org_shorthand',  $$company.industry = 'tech'$$, 'manual'),
    ('org_tag_term',   $$organization(tag 'Partner') or organization(sectors is 'retail')$$, 'manual'),
    ('org_under',      $$organization under 'acme'$$, 'manual'),
    ('doc',            $$document invoice$$, 'manual'),
    ('doc_where',      $$document invoice (invoice.total > 100 and invoice.status = 'paid')$$, 'manual'),
    ('event',          $$event 'purchase'$$, 'manual'),
    ('event_count',    $$event 'purchase' count >= 3$$, 'manual'),
    ('event_within',   $$event 'purchase' within 45 days$$, 'manual'),
    ('event_where',    $$event 'purchase' where (properties.amount > 60) count >= 2 within 60 days$$, 'manual'),
    ('event_none',     $$event 'page_view' count = 0$$, 'manual'),
    ('event_hours',    $$event 'Order Completed' within 720 hours$$, 'manual'),
    ('in_segment',     $$in segment 'tag' and not in segment 'cmp_eq'$$, 'manual'),
    ('and_or_not',     $$(tag 'VIP' or interests is 'music') and not customer.tier = 'gold' and has email$$, 'manual'),
    ('not_profile',    $$not has profile customer$$, 'manual'),
    ('combined',       $$tag under 'Technology' and customer.ltv > 10 and event 'purchase' within 90 days and interests under 'sports'$$, 'manual'),
    ('imm_vip',        $$tag 'VIP' and customer.ltv > 100$$, 'immediate'),
    ('imm_tech',       $$tag under 'Technology' or has validated phone$$, 'immediate'),
    ('imm_org',        $$organization under 'acme' and not document invoice$$, 'immediate'),
    ('buyers',         $$event 'purchase' count >= 2 or document invoice (invoice.status = 'paid')$$, 'manual')
  ) s(slug, definition, refresh)
 ORDER BY slug = 'in_segment', slug;   -- in segment needs the segments it names
