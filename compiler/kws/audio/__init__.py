"""Audio for keyword spotting, one module each: the integer front end (`frontend`: 16 kHz PCM
-> spike counts), WAV files (`wav`), speech synthesis (`speech`), the keyword data set
(`dataset`) and labelled multi-keyword test streams (`labelled_streams`).

    from silifc.kws.audio.frontend import FrontEnd, FrontEndConfig
    counts = FrontEnd(FrontEndConfig()).process(pcm_int16)     # uint8 [T, bands]

`frontend` and `wav` need only numpy.
"""
