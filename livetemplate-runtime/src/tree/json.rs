//! Full-tree JSON encoding (to be implemented).
