"""Reports: the quarterly report object, its xlsx and PDF, and the charts."""
