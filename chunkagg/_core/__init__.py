"""The core: what every stream format shares, and nothing any one format owns.

- ``framing``: bytes to event payloads (SSE by the WHATWG rules, NDJSON, one JSON document), with
  size caps; ``frames``: what a frame holds (``FrameKind``), and the hook by which a format
  frames its own event shape (``EventSplitter``); ``pairs``: that hook for ``event:`` then
  ``data:`` pairs, which the Responses API and Anthropic Messages share.
- ``stream``: the accumulator loop (``StreamAccumulator``): frames to decoded chunks, merged by a
  format's ``MergeState``, with event numbers, byte offsets and faults.
- ``schema``: JSON to a format's root Struct, losing no key (Structs derived as streams need).
- ``rules``: the merge rules of extensions and unknown keys, and their code generation.
- ``models``: the base Structs, ``Usage`` and ``ErrorObject``; ``output``: merged JSON typed
  into a result's Structs; ``events``: the shared live-UI events and the partial-parse policy;
  ``limits``: the shared bounds and nesting depth; ``detect``: which API an event belongs to,
  by its JSON alone.

Imports no format: a format's room (``chunkagg._chat``, ``_completions``, ``_responses``,
``_messages``) imports the core, never another room.
"""

__all__: list[str] = []
