-- The webhook's hot path in one round trip: record an inbound message exactly once per
-- provider message id, creating the conversation on first contact, and make the chat
-- human-owned when a manager wrote. Same logic as the former multi-statement transaction.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION noor_record_inbound(
    p_channel text, p_chat text, p_chat_type text, p_provider_id text, p_author text,
    p_author_name text, p_contact_name text, p_kind text, p_text text, p_media_url text, p_at timestamptz)
RETURNS TABLE (conversation_id uuid, message_id bigint, duplicate boolean, needs_signal boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_conv uuid;
    v_msg bigint;
    v_signaled timestamptz;
BEGIN
    INSERT INTO conversations AS c (channel_id, chat_id, chat_type, customer_name)
    VALUES (p_channel, p_chat, p_chat_type, p_contact_name)
    ON CONFLICT (channel_id, chat_id) DO UPDATE
        SET customer_name = CASE WHEN c.customer_name = '' THEN EXCLUDED.customer_name ELSE c.customer_name END
    RETURNING c.id INTO v_conv;

    INSERT INTO inbound_ledger (provider_message_id, conversation_id) VALUES (p_provider_id, v_conv)
    ON CONFLICT (provider_message_id) DO NOTHING;
    IF NOT FOUND THEN
        SELECT l.signaled_at, l.message_id INTO v_signaled, v_msg
        FROM inbound_ledger l WHERE l.provider_message_id = p_provider_id;
        RETURN QUERY SELECT v_conv, v_msg, true, v_signaled IS NULL;
        RETURN;
    END IF;

    INSERT INTO messages (conversation_id, direction, author, author_name, kind, text, media_url,
                          provider_message_id, created_at)
    VALUES (v_conv, CASE WHEN p_author = 'manager' THEN 'out' ELSE 'in' END, p_author, p_author_name,
            p_kind, p_text, p_media_url, p_provider_id, p_at)
    RETURNING id INTO v_msg;
    UPDATE inbound_ledger SET message_id = v_msg WHERE provider_message_id = p_provider_id;

    IF p_author = 'manager' THEN
        UPDATE conversations SET owner = 'human', last_message_at = p_at, updated_at = now() WHERE id = v_conv;
    ELSE
        UPDATE conversations
        SET last_customer_message_at = greatest(coalesce(last_customer_message_at, p_at), p_at),
            last_message_at = greatest(coalesce(last_message_at, p_at), p_at),
            status = CASE WHEN status = 'closed' THEN 'active' ELSE status END,
            updated_at = now()
        WHERE id = v_conv;
    END IF;
    RETURN QUERY SELECT v_conv, v_msg, false, true;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION noor_record_inbound;
