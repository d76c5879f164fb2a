//! Handlebars templates compiled into a static/dynamic plan (to be implemented).
