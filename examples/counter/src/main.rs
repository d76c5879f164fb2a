//! The counter: a live page with two buttons that also works without JavaScript.
//!
//! Run it with `cargo run -p counter` and open <http://127.0.0.1:8080>. `PORT` sets the
//! port (default 8080), `LT_CLIENT_DIR` serves the browser client from an unpacked
//! `@livetemplate/client` 0.25.1 instead of the CDN, and `--redis URL` keeps the count in
//! Redis (see the `example-support` crate for every option).

#[tokio::main]
async fn main() -> Result<(), example_support::BoxError> {
    example_support::main("counter", counter::app).await
}
