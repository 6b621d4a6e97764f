-- Adds :n tokens to the account of token :template, copies of it without
-- scopes, contact or e-mails, each with its own SID, name and a secret MAC
-- that matches no secret (they can be listed, read and changed, never used).
-- Run with the server stopped; see bench/run.sh.
CREATE TEMP TABLE tpl AS SELECT * FROM tokens WHERE sid = :template;
UPDATE tpl SET scopes = '[]', developer_emails = '[]', primary_contact_id = NULL,
	state = 'ENABLED', date_last_used = NULL, prev_secret_mac = NULL,
	prev_expires = NULL, prev_reset_key = NULL;
CREATE TEMP TABLE copies AS
	WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n)
	SELECT tpl.* FROM tpl, seq;
UPDATE copies SET
	sid = 'IRB' || printf('%04d', :batch) || printf('%027d', rowid),
	name = 'Bench ' || :batch || '-' || rowid,
	secret_mac = randomblob(32),
	date_created = date_created + rowid;
INSERT INTO tokens SELECT * FROM copies;
DROP TABLE copies;
DROP TABLE tpl;
