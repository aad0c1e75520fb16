"""`dubkit review`: a local web page where an operator watches a programme with its Urdu
subtitles, checks them against the profile and the glossary, and corrects them.

programme.py finds and reads a programme's files and saves an edited draft through the code
`run` writes with; draft.py is the page's draft (checks, split, merge, frame nudges), pure;
server.py is the Starlette application and its safety rules; static/ is the page itself
(plain HTML, CSS and a small script, no build step)."""
