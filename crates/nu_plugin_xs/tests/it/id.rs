//! `xs id`, `xs id unpack`, `xs id pack`.

use serde_json::json;

use crate::common::Shell;

// Local only (as the next): no store is used.
#[test]
fn ids_are_new_scru128_strings() {
    let shell = Shell::new();
    let ids = shell.json("[(xs id) (xs id)]");
    let (a, b) = (ids[0].as_str().unwrap(), ids[1].as_str().unwrap());
    assert_eq!((a.len(), b.len()), (25, 25));
    assert!(a < b);
}

#[test]
fn unpack_takes_an_argument_or_input() {
    let shell = Shell::new();
    let fields = shell.json("xs id unpack 03amo4vrpq0xs2alqicv0426b | reject timestamp");
    assert_eq!(fields, json!({"counter_hi": 1, "counter_lo": 2, "entropy": 3}));
    let millis =
        shell.json("'03amo4vrpq0xs2alqicv0426b' | xs id unpack | get timestamp | format date '%s%3f' | into int");
    assert_eq!(millis, json!(1_700_000_000_000u64));
}

both_ways! {
    fn pack_reverses_unpack_losslessly(shell) {
        let ok = shell
            .json("1..50 | each { xs id } | append (xs append x).id | all {|i| ($i | xs id unpack | xs id pack) == $i }");
        assert_eq!(ok, json!(true));
    }
}
