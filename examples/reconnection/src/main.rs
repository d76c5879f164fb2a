//! Reconnection example: `cargo run -p reconnection [-- --redis redis://127.0.0.1:6379]`,
//! then open <http://127.0.0.1:8080>. See README.md for what to try, and the
//! `example-support` crate for every option.

#[tokio::main]
async fn main() -> Result<(), example_support::BoxError> {
    example_support::main("reconnection", reconnection::app).await
}
