-- The job runner's next wake-up without reading every job (as PostgreSQL's migration 0014).
--
-- The runner asks after each poll when the next job falls due: the earliest run_at of the jobs
-- nobody holds, or the end of a lease that outlasts its job's time. Written as one MIN over an
-- expression of both columns, that read the whole table every second (every open conversation
-- has an auto-close job). It now reads the first unleased job from `jobs_due` and the first
-- lease's end from this index, which holds only the jobs being run.
CREATE INDEX jobs_leased ON jobs(locked_until) WHERE locked_until IS NOT NULL;
