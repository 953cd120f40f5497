export { CredentialCheckPool } from '../../../ledger/src/credential-check.js';
