-- The web form's submit path stores the ticket, its access row and its
-- event; the worker resolves the customer, continues or starts the
-- conversation and stores the message when it takes the event, and fills
-- in the ticket's customer and conversation then.
--
-- Until then the submitter's thread shows the message from the access row,
-- under the id the worker will store it with; the worker clears this copy
-- when it stores the message, so the text is kept in one place.
alter table web_ticket_access
    add column first_message_id uuid,
    add column first_message text;
