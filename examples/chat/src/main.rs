//! Serves the chat example on `127.0.0.1:$PORT` (default 8080); with `--redis URL` as
//! one of several replicas (see the `example-support` crate for every option).

#[tokio::main]
async fn main() -> Result<(), example_support::BoxError> {
    example_support::main("chat", chat::app).await
}
