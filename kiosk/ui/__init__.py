"""The Textual user interface: app, screens, widgets and .tcss. Calls services from workers.

Stock Textual: the speed and memory work on Textual's private parts is behind one door,
:mod:`kiosk.ui.tuning`, installed by each app as it is made (``KIOSK_TUNING``)."""
