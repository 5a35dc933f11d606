-- Issue 5: feedback and rate-limit refusals in the analytics rollups.
--
-- Feedback keeps the dimensions of its call, so that it is counted under
-- them at once, even before the call's record is flushed, and so that
-- rebuilding the rollups needs no join with the calls. Rows stored before
-- this migration take them from their call; feedback given before it is
-- counted in the rollups by rebuilding them (hypergate analytics rebuild).
ALTER TABLE feedback ADD COLUMN service TEXT NOT NULL DEFAULT '';
ALTER TABLE feedback ADD COLUMN route TEXT NOT NULL DEFAULT '';
ALTER TABLE feedback ADD COLUMN model TEXT NOT NULL DEFAULT '';
ALTER TABLE feedback ADD COLUMN provider TEXT NOT NULL DEFAULT '';
ALTER TABLE feedback ADD COLUMN status BIGINT NOT NULL DEFAULT 0;
UPDATE feedback SET
    service = COALESCE((SELECT c.service FROM calls c WHERE c.id = feedback.request_id), ''),
    route = COALESCE((SELECT c.route FROM calls c WHERE c.id = feedback.request_id), ''),
    model = COALESCE((SELECT c.model FROM calls c WHERE c.id = feedback.request_id), ''),
    provider = COALESCE((SELECT c.provider FROM calls c WHERE c.id = feedback.request_id), ''),
    status = COALESCE((SELECT c.status FROM calls c WHERE c.id = feedback.request_id), 0);
-- Rebuilding reads feedback by the time it was last given.
CREATE INDEX feedback_updated ON feedback (updated_us);

ALTER TABLE rollups ADD COLUMN rate_limited BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN feedback_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN feedback_scored BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN feedback_sum DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN feedback_positive BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN feedback_negative BIGINT NOT NULL DEFAULT 0;

-- Feedback given before this migration is counted in the rollups here, at
-- every resolution, by the time it was last given: from now on the store
-- counts each item as it is given or changed, and a changed item is moved
-- from its old bucket to its new one, which assumes it was counted. The
-- sketches of rows made here are empty (encoded as the single byte 1).
INSERT INTO rollups (resolution, bucket, service, route, model, provider, consumer, status_class,
    feedback_count, feedback_scored, feedback_sum, feedback_positive, feedback_negative, latency_sketch, ttft_sketch)
SELECT 60, (updated_us / 1000000) - ((updated_us / 1000000) % 60), service, route, model, provider, consumer,
    CASE WHEN status < 100 OR status > 599 THEN 'none' ELSE CAST(status / 100 AS TEXT) || 'xx' END,
    COUNT(*),
    SUM(CASE WHEN kind IN ('boolean', 'numeric') THEN 1 ELSE 0 END),
    SUM(CASE WHEN kind IN ('boolean', 'numeric') THEN num ELSE 0 END),
    SUM(CASE WHEN kind = 'boolean' AND num <> 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN kind = 'boolean' AND num = 0 THEN 1 ELSE 0 END),
    decode('01', 'hex'), decode('01', 'hex')
FROM feedback WHERE true
GROUP BY 2, 3, 4, 5, 6, 7, 8
ON CONFLICT (resolution, bucket, service, route, model, provider, consumer, status_class) DO UPDATE SET
    feedback_count = rollups.feedback_count + excluded.feedback_count,
    feedback_scored = rollups.feedback_scored + excluded.feedback_scored,
    feedback_sum = rollups.feedback_sum + excluded.feedback_sum,
    feedback_positive = rollups.feedback_positive + excluded.feedback_positive,
    feedback_negative = rollups.feedback_negative + excluded.feedback_negative;
INSERT INTO rollups (resolution, bucket, service, route, model, provider, consumer, status_class,
    feedback_count, feedback_scored, feedback_sum, feedback_positive, feedback_negative, latency_sketch, ttft_sketch)
SELECT 3600, (updated_us / 1000000) - ((updated_us / 1000000) % 3600), service, route, model, provider, consumer,
    CASE WHEN status < 100 OR status > 599 THEN 'none' ELSE CAST(status / 100 AS TEXT) || 'xx' END,
    COUNT(*),
    SUM(CASE WHEN kind IN ('boolean', 'numeric') THEN 1 ELSE 0 END),
    SUM(CASE WHEN kind IN ('boolean', 'numeric') THEN num ELSE 0 END),
    SUM(CASE WHEN kind = 'boolean' AND num <> 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN kind = 'boolean' AND num = 0 THEN 1 ELSE 0 END),
    decode('01', 'hex'), decode('01', 'hex')
FROM feedback WHERE true
GROUP BY 2, 3, 4, 5, 6, 7, 8
ON CONFLICT (resolution, bucket, service, route, model, provider, consumer, status_class) DO UPDATE SET
    feedback_count = rollups.feedback_count + excluded.feedback_count,
    feedback_scored = rollups.feedback_scored + excluded.feedback_scored,
    feedback_sum = rollups.feedback_sum + excluded.feedback_sum,
    feedback_positive = rollups.feedback_positive + excluded.feedback_positive,
    feedback_negative = rollups.feedback_negative + excluded.feedback_negative;
INSERT INTO rollups (resolution, bucket, service, route, model, provider, consumer, status_class,
    feedback_count, feedback_scored, feedback_sum, feedback_positive, feedback_negative, latency_sketch, ttft_sketch)
SELECT 86400, (updated_us / 1000000) - ((updated_us / 1000000) % 86400), service, route, model, provider, consumer,
    CASE WHEN status < 100 OR status > 599 THEN 'none' ELSE CAST(status / 100 AS TEXT) || 'xx' END,
    COUNT(*),
    SUM(CASE WHEN kind IN ('boolean', 'numeric') THEN 1 ELSE 0 END),
    SUM(CASE WHEN kind IN ('boolean', 'numeric') THEN num ELSE 0 END),
    SUM(CASE WHEN kind = 'boolean' AND num <> 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN kind = 'boolean' AND num = 0 THEN 1 ELSE 0 END),
    decode('01', 'hex'), decode('01', 'hex')
FROM feedback WHERE true
GROUP BY 2, 3, 4, 5, 6, 7, 8
ON CONFLICT (resolution, bucket, service, route, model, provider, consumer, status_class) DO UPDATE SET
    feedback_count = rollups.feedback_count + excluded.feedback_count,
    feedback_scored = rollups.feedback_scored + excluded.feedback_scored,
    feedback_sum = rollups.feedback_sum + excluded.feedback_sum,
    feedback_positive = rollups.feedback_positive + excluded.feedback_positive,
    feedback_negative = rollups.feedback_negative + excluded.feedback_negative;
