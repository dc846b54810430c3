"""The live Textual explorer: ``dm-explore DIR``.

Data flows one way: a thread worker (:mod:`.loader`) reads the folder into the
model under a lock; the app redraws on a timer when ``model.version`` moved.
Every string from a file is shown through :func:`.text.cell` (literal text with
control characters made visible), never as markup.
"""
