//! HTTP, WebSocket and no-JS transport (to be implemented).
