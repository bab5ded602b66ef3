//! Self-tests of the fakes in `tests/support`.

mod support;

use support::{FakeDojo, Flavour};

#[test]
fn starts() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
}
