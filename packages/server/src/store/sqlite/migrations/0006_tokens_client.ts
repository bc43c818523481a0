// Migration 0006: tokens by client, so revoking a client (DELETE …/clients/{clientId}) deletes its
// tokens with one index range instead of a scan of every token ever issued.

export const sql = `
CREATE INDEX tokens_client ON tokens (client_id);
`;
