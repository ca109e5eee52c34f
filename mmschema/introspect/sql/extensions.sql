-- Installed extensions.
SELECT extname AS name FROM pg_extension ORDER BY 1
