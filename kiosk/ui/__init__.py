"""The Textual user interface: app, screens, widgets and .tcss. Calls services from workers."""

from kiosk.ui import style_memo, textual_fixes

textual_fixes.apply()
style_memo.install()
