fn main() {
    nu_plugin_xs::serve(&nu_plugin_xs::XsPlugin::default());
}
