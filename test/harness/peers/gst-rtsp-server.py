#!/usr/bin/python3
"""Loopback RTSP server for the streaming tests (Debian gst-rtsp-server 1.22, see
scripts/setup-machine.sh). Run with Debian's /usr/bin/python3 (a pyenv python has no `gi`).
  rtsp://127.0.0.1:PORT/src   a live H.264 + AAC test pattern to pull (PLAY, TCP or UDP)
  rtsp://127.0.0.1:PORT/push  takes ANNOUNCE/RECORD (what a streaming-out pushes); it decodes
                              what arrives and prints `PUSH_CODEC <depayloader>` once per track
                              (per push)
                              and `PUSH_FRAMES <n>` every 30 decoded video frames.
Usage: gst-rtsp-server.py PORT"""
import sys, threading, gi
gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0')
from gi.repository import Gst, GstRtspServer, GLib
Gst.init(None)
port = sys.argv[1]
server = GstRtspServer.RTSPServer(); server.set_address('127.0.0.1'); server.set_service(port)
mounts = server.get_mount_points()

src = GstRtspServer.RTSPMediaFactory()
src.set_launch('( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 '
               '! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 '
               '! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=1 '
               'audiotestsrc is-live=true wave=sine freq=440 ! audio/x-raw,rate=48000,channels=2 ! audioconvert '
               '! avenc_aac ! rtpmp4gpay name=pay1 pt=97 )')
src.set_shared(True)
mounts.add_factory('/src', src)

rec = GstRtspServer.RTSPMediaFactory()
rec.set_transport_mode(GstRtspServer.RTSPTransportMode.RECORD)
rec.set_launch('( decodebin name=depay0 ! identity name=v ! fakesink sync=false '
               'decodebin name=depay1 ! fakesink sync=false )')
frames = {'n': 0}
lock = threading.Lock()
def say(*words):
    # Whole lines under a lock: print() from two streaming threads interleaves its parts.
    with lock:
        sys.stdout.write(' '.join(str(w) for w in words) + '\n')
        sys.stdout.flush()

def on_configure(factory, media):
    el = media.get_element()
    told = set()
    def tell(element):
        name = element.get_factory().get_name() if element.get_factory() else ''
        if name.startswith('rtp') and name.endswith('depay') and name not in told:
            told.add(name)
            say('PUSH_CODEC', name)
    el.connect('deep-element-added', lambda bin, sub, element: tell(element))
    def scan():
        # Depayloaders plugged before the signal was connected are found by walking the bin.
        it = el.iterate_recurse()
        while True:
            res, element = it.next()
            if res != Gst.IteratorResult.OK: break
            tell(element)
    def probe(pad, info):
        frames['n'] += 1
        if frames['n'] % 30 == 0:
            scan()
            say('PUSH_FRAMES', frames['n'])
        return Gst.PadProbeReturn.OK
    ident = el.get_by_name('v')
    if ident: ident.get_static_pad('src').add_probe(Gst.PadProbeType.BUFFER, probe)
rec.connect('media-configure', on_configure)
mounts.add_factory('/push', rec)

if server.attach(None) == 0:
    sys.exit(f'cannot listen on 127.0.0.1:{port}')
print('RTSP_READY', flush=True)
GLib.MainLoop().run()
