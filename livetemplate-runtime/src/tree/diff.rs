//! Minimal diff between two render trees (to be implemented).
