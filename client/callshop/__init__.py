"""SipTar Call Shop, the desktop tool (docs/callshop.md): booths live on screen, open /
close-and-charge / lock, receipts to PDF, the counter's price lookup, the day's
totals. Qt through PySide6, the `callshop` extra; talks to the server only through
client/."""
