fn main() {
    nu_plugin::serve_plugin(&nu_plugin_xs::XsPlugin::default(), nu_plugin::MsgPackSerializer);
}
