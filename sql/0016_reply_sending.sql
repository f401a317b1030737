-- 0016_reply_sending.sql - a bot or agent reply is marked 'sending' (and
-- committed) just before its Send API call.
--
-- The Send API has no idempotency key: a worker that dies while a call is
-- on the wire leaves no way to tell whether Facebook delivered the
-- message.  The worker that reclaims the event finds the reply still
-- 'sending' and does not send it again (the person would read it twice);
-- it records the reply as failed with reason 'delivery_unknown' instead,
-- so an operator sees it (GET /v1/conversations/{id}/messages, metrics).
-- A call that failed in a way Facebook documents as not delivered (5xx,
-- 429, throttling codes) puts the reply back to 'pending' for a retry.
ALTER TABLE messages DROP CONSTRAINT messages_status_valid;
ALTER TABLE messages ADD CONSTRAINT messages_status_valid
    CHECK (status IN ('received', 'pending', 'sending', 'sent', 'failed', 'skipped'));
