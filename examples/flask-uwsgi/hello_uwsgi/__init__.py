"""A Flask app served by uWSGI, linked against libpq through psycopg2."""
