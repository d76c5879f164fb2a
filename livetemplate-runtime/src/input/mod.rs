//! Parsing what browsers send: action messages, form posts, typed form data (to be implemented).
