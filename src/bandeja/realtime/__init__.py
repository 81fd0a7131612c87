"""Realtime delivery: committed domain events and presence fanned out to connected browsers.

``hub`` keeps the clients of this process; a ``broker`` gives every event of a workspace its
increasing id, keeps the replay buffer and carries events between processes (``memory``: one
process; ``redis``: streams shared by every web and worker process).
"""
