-- A read-only PostgreSQL role for dashboards and BI tools (Grafana, Metabase,
-- Superset, Evidence, Malloy): it logs in, reads the analytics views and the
-- tables of ratickets, and can do nothing else.
--
-- Run it after `ratickets migrate up`, as a superuser, connected to the
-- ratickets database. It is safe to run again.
--   psql -X -v ON_ERROR_STOP=1 -v owner=ratickets -v password='a-long-random-password' \
--        -d ratickets -f deploy/postgres/reader.sql
-- Variables:
--   owner     (required) the role that ran `ratickets migrate up`, which owns
--             the tables and views (ratickets with deploy/postgres/role.sql);
--   reader    the role to create or update (default ratickets_reader);
--   schema    the schema of the tables (default: the schema of the owner's
--             table tickets: ratickets with role.sql, usually public otherwise);
--   password  its password (without it: no password, for peer or
--             certificate authentication).
\set ON_ERROR_STOP on

\if :{?owner}
\else
DO $$ BEGIN RAISE EXCEPTION 'reader.sql: pass -v owner=ROLE, the role that ran ratickets migrate up'; END $$;
\endif
\if :{?reader}
\else
\set reader ratickets_reader
\endif
\if :{?schema}
\else
SELECT count(*) = 1 AS found_tickets, min(n.nspname) AS schema
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = 'tickets' AND c.relkind = 'r' AND c.relowner = :'owner'::regrole \gset
\if :found_tickets
\else
SELECT set_config('reader.msg', format('reader.sql: %s owns no table tickets, or several: run ratickets migrate up first, or pass -v schema=NAME', :'owner'), false) \g /dev/null
DO $$ BEGIN RAISE EXCEPTION '%', current_setting('reader.msg'); END $$;
\endif
\endif

SELECT format('CREATE ROLE %I LOGIN', :'reader')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'reader') \gexec
-- Its settings first, so that the role is read-only even if a grant below
-- fails. Whatever the role had before, it has none of these rights.
ALTER ROLE :"reader" NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS LOGIN;
ALTER ROLE :"reader" SET default_transaction_read_only = on;
ALTER ROLE :"reader" SET statement_timeout = '60s';
-- The analytics views are UTC whatever the session; this makes now(),
-- current_date and the display of timestamptz columns UTC as well.
ALTER ROLE :"reader" SET timezone = 'UTC';
SELECT format('ALTER ROLE %I IN DATABASE %I SET search_path = analytics, %I',
              :'reader', current_database(), :'schema') \gexec
\if :{?password}
ALTER ROLE :"reader" PASSWORD :'password';
\endif

SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'reader') \gexec
GRANT USAGE ON SCHEMA :"schema", analytics TO :"reader";
-- SELECT on what the owner owns in the two schemas (the views, and the
-- tables under them: by_developer calls a function that reads tickets with
-- the caller's rights), not on other applications' tables in the schema.
SELECT format('GRANT SELECT ON %I.%I TO %I', n.nspname, c.relname, :'reader')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN (:'schema', 'analytics') AND c.relkind IN ('r', 'p', 'v', 'm')
  AND c.relowner = :'owner'::regrole
ORDER BY 1 \gexec
-- And on the tables and views that later migrations create.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema", analytics
    GRANT SELECT ON TABLES TO :"reader";
