"""The Textual user interface: app, screens, widgets and .tcss. Calls services from workers."""
