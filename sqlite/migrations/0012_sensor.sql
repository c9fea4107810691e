-- 0012: the sensor (recorder) that recorded each call: many recorders may
-- write one central index. '' for calls indexed before.
ALTER TABLE calls ADD COLUMN sensor TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_sensor_start ON calls (sensor, start_ns);
