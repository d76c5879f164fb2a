//! Session stores (to be implemented).
