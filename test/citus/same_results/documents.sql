-- documents.sql: invoices of contacts of namespace a, updated and archived.
DO $$
BEGIN
    FOR n IN 0..149 LOOP
        IF n % 5 = 2 THEN
            PERFORM cdp.create_document('invoice', cdp.find_contact('email', 'a-p' || n || '@example.com'),
                                        jsonb_build_object('total', n * 3, 'status', 'open'), 'INV-a-' || n);
        END IF;
    END LOOP;
END
$$;
-- the ids are read first: on Citus a cdp function called in the target list
-- of a query on a distributed table would run on the shards
DO $$
DECLARE
    d bigint;
BEGIN
    FOR d IN SELECT id FROM cdp.documents WHERE title LIKE 'INV-a-%2' ORDER BY title LOOP
        PERFORM cdp.update_document(d, '{"status": "paid"}');
    END LOOP;
    SELECT id INTO d FROM cdp.documents WHERE title = 'INV-a-17';
    PERFORM cdp.archive('document', d);
END
$$;
