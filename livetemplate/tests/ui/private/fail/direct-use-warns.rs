#![deny(deprecated)]

fn main() {
    let object = livetemplate::__private::persist::parse(b"{}");
    assert!(object.is_ok());
}
