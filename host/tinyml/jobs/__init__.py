"""The TinyML jobs: data, model and training recipe for each (gesture recognition first)."""
