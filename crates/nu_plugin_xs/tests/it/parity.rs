//! The shell and a handler see the same store commands. A handler lists
//! the commands of the processor's engine with `scope commands` and
//! appends the list; the same `nu` lists the plugin's. Both registries are
//! read as Nushell sees them (names, descriptions, signatures, examples,
//! categories), not through the Rust values they were built from.

use serde_json::Value;

use crate::common::Shell;

/// What `scope commands` tells of each command compared.
const COLUMNS: &str = "name description extra_description signatures examples category search_terms";

/// The plugin's own commands, which only make sense in a shell.
const SHELL_ONLY: [&str; 12] = [
    "xs",
    "xs eval",
    "xs export",
    "xs import",
    "xs mirror",
    "xs mirror add",
    "xs mirror list",
    "xs replica",
    "xs serve",
    "xs status",
    "xs token",
    "xs token rotate",
];

#[test]
fn the_shell_and_a_handler_see_the_same_store_commands() {
    let shell = Shell::new();
    let listing = format!("scope commands | where name starts-with 'xs ' | select {COLUMNS} | sort-by name");
    let script = format!(
        r##"
        r#'{{run: {{|frame, state| {listing} | to json -r | xs append probe.out | ignore; null }}, topics: [go]}}'#
            | xs append xs.handler.probe.register | ignore
        for _ in 1..400 {{
            if (xs status | get handlers | where name == probe and state == active | is-not-empty) {{ break }}
            sleep 50ms
        }}
        xs append go | ignore
        for _ in 1..400 {{
            if (xs last probe.out) != null {{ break }}
            sleep 50ms
        }}
        let engine = (xs last probe.out | xs cas | from json)
        let plugin = ({listing} | where name in ($engine | get name))
        {{engine: $engine, plugin: $plugin, all: (scope commands | where name starts-with 'xs' | get name)}}
        "##
    );
    let seen = shell.json(&script);
    let engine = seen["engine"].as_array().expect("the handler listed its commands");
    assert_eq!(engine.len(), xs_core::nu::commands().len(), "the engine's store commands: {engine:?}");
    assert_eq!(seen["engine"], seen["plugin"], "the handler's commands differ from the shell's");
    let names: Vec<&str> = engine.iter().filter_map(|c| c["name"].as_str()).collect();
    let mut rest: Vec<&str> =
        seen["all"].as_array().unwrap().iter().filter_map(Value::as_str).filter(|n| !names.contains(n)).collect();
    rest.sort_unstable();
    assert_eq!(rest, SHELL_ONLY, "the plugin's commands beyond the engine's");
}
