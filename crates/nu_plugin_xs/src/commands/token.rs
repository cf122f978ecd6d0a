//! `xs token` and `xs token rotate`: the secret that clients of the
//! owner's other listeners (`xs serve --listen`) present.
//!
//! Showing it reads (or makes) `<store>/token`, as `xs status` does.
//! Rotating it asks the owner over its socket, the one place the owner
//! takes that request, so connections made with the old token are cut at
//! once (live follows included); a shell that finds no owner becomes it
//! first, as for any command.

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Type, Value};
use xs_core::server::token;

use crate::{XsPlugin, error};

/// `xs token`.
pub struct Token;

impl PluginCommand for Token {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs token"
    }

    fn description(&self) -> &str {
        "The store's token: what clients of its TCP, TLS and other unix listeners present"
    }

    fn extra_description(&self) -> &str {
        "Made on first use in <store>/token (mode 0600): 64 hex digits of OS randomness. A \
         client sends it as `Authorization: Bearer <token>`, or as the password of basic auth \
         (https://user:<token>@host, as cross-stream's CLI does). The private <store>/sock \
         needs none. `xs token rotate` replaces it."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name()).input_output_type(Type::Nothing, Type::String)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example { example: "xs token", description: "Show the store's token", result: None },
            Example {
                example: "(xs token) == (xs token)",
                description: "The token stays until it is rotated",
                result: Some(Value::test_bool(true)),
            },
        ]
    }

    fn run(
        &self,
        plugin: &XsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        let backend = plugin.backend(engine, call)?;
        let token =
            token::load_or_create(super::local_dir(&backend, self.name(), call.head)?).map_err(error::at(call.head))?;
        Ok(PipelineData::value(Value::string(token, call.head), None))
    }
}

/// `xs token rotate`.
pub struct Rotate;

impl PluginCommand for Rotate {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs token rotate"
    }

    fn description(&self) -> &str {
        "Replace the store's token, cutting off every client that uses the old one; returns the new token"
    }

    fn extra_description(&self) -> &str {
        "The owner writes a new token to <store>/token and closes every connection made on its \
         other listeners (xs serve --listen), live follows included; their clients need the new \
         token from then on. The private <store>/sock is not affected."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name()).input_output_type(Type::Nothing, Type::String)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example { example: "xs token rotate", description: "Cut off every token holder", result: None },
            Example {
                example: "let old = (xs token); (xs token rotate) != $old and (xs token rotate) == (xs token)",
                description: "Each rotation makes a new token, which the store then keeps",
                result: Some(Value::test_bool(true)),
            },
        ]
    }

    fn run(
        &self,
        plugin: &XsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        let backend = plugin.backend(engine, call)?;
        let token =
            token::rotate_served(super::local_dir(&backend, self.name(), call.head)?).map_err(error::at(call.head))?;
        Ok(PipelineData::value(Value::string(token, call.head), None))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_examples() {
        super::super::test_examples(&super::Token);
        super::super::test_examples(&super::Rotate);
    }
}
