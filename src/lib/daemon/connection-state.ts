/** Where the daemon's WebSocket session stands (connection.ts drives it; liveness.ts and the daemon read it). */
export type ConnectionState = 'idle' | 'connecting' | 'authenticating' | 'connected' | 'waiting' | 'stopped'
