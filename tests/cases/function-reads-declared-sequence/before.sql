-- nothing yet
SELECT 1;
