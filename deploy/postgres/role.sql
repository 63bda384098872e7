-- A least-privilege PostgreSQL role for ratickets: it logs in, owns the
-- schema its tables live in, and can do nothing else (no superuser, no
-- CREATEDB or CREATEROLE, no rights on the public schema or on anything
-- another role owns).
--
-- Run it once as a superuser, connected to the database ratickets will use
-- (create that first: CREATE DATABASE ratickets;). It is safe to run again.
--   psql -v ON_ERROR_STOP=1 -v password='a-long-random-password' -d ratickets -f deploy/postgres/role.sql
-- Without -v password the role has no password (peer or certificate auth).
-- Then point ratickets at it (DATABASE_URL=postgres://ratickets@host/ratickets)
-- and run `ratickets migrate up`: the tables are created in the schema
-- ratickets, owned by the role.
\set ON_ERROR_STOP on

SELECT 'CREATE ROLE ratickets LOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ratickets') \gexec
-- Whatever the role had before, it has none of these.
ALTER ROLE ratickets NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT LOGIN;
\if :{?password}
ALTER ROLE ratickets PASSWORD :'password';
\endif

-- Its own schema, first on its search path: the tables, the migrations'
-- bookkeeping (goose_db_version) and the functions go there.
CREATE SCHEMA IF NOT EXISTS ratickets AUTHORIZATION ratickets;
ALTER SCHEMA ratickets OWNER TO ratickets;
SELECT format('ALTER ROLE ratickets IN DATABASE %I SET search_path = ratickets', current_database()) \gexec

-- Connect, and create temporary tables (each batch is COPYed into one).
-- CREATE on the database is for the migrations alone: one of them creates
-- the schema analytics (read-only views), which the role then owns too.
SELECT format('GRANT CONNECT, TEMPORARY, CREATE ON DATABASE %I TO ratickets', current_database()) \gexec

-- Nobody but the owner creates objects in public (PostgreSQL 15's default;
-- older versions let every role do it).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
