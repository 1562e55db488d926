"""WhatsApp Cloud API channel for Rasa.

Registered in credentials.yml by its class path: `connectors.whatsapp.channel.WhatsAppInput:`.
The submodules parse, signature, text splitting and recorder are pure and import nothing from Rasa.
"""
