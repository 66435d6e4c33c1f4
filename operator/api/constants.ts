// Fixed facts about the relay pods that both the API checks and the renderer use.

/** The relay's admin port: /metrics, /healthz, /readyz. */
export const ADMIN_PORT = 9641;
/** Container port name of the admin port. */
export const ADMIN_PORT_NAME = 'admin';
/** Non-root user the relay container runs as. */
export const RELAY_UID = 10001;
