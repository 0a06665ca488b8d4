"""app/state"""
