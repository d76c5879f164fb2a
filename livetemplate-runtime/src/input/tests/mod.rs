//! Tests of the input layer.

mod form;
mod form_post;
mod fuzz;
mod message;
mod multipart;
mod value;
