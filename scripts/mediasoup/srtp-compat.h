/*
 * mediasoup 3.16+ calls the versatica libsrtp3 API (separate in/out buffers, size_t lengths,
 * srtp_stream_remove). Tessera links libsrtp 2.5.0 (Debian's source, built on OpenSSL), whose
 * functions work in place with int lengths. These C++ overloads adapt one API to the other;
 * the 2.5.0 ABI is used unchanged. Used by scripts/build-mediasoup-worker.sh.
 */
#ifndef MS_SHIM_SRTP_COMPAT_H
#define MS_SHIM_SRTP_COMPAT_H
#include <srtp2/srtp.h>

#ifdef __cplusplus
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

/* Error codes that only exist in libsrtp 3.x. */
#define srtp_err_status_buffer_small (static_cast<srtp_err_status_t>(28))
#define srtp_err_status_cryptex_err (static_cast<srtp_err_status_t>(29))

namespace ms_srtp_shim
{
	using fn_t = srtp_err_status_t (*)(srtp_t, void*, int*);

	inline srtp_err_status_t run(
	  fn_t fn, srtp_t ctx, const uint8_t* in, size_t inLen, uint8_t* out, size_t* outLen, size_t extra)
	{
		if (inLen > static_cast<size_t>(INT_MAX))
			return srtp_err_status_bad_param;
		if (*outLen < inLen + extra)
			return srtp_err_status_buffer_small;
		if (out != in)
			std::memmove(out, in, inLen);
		int len                     = static_cast<int>(inLen);
		const srtp_err_status_t err = fn(ctx, out, &len);
		if (err == srtp_err_status_ok)
			*outLen = static_cast<size_t>(len);
		return err;
	}
} // namespace ms_srtp_shim

/* libsrtp3 API (mediasoup >= 3.16). mki_index is ignored (mediasoup passes 0). */
inline srtp_err_status_t srtp_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtp_len, uint8_t* srtp, size_t* srtp_len, size_t /*mki_index*/)
{
	return ms_srtp_shim::run(::srtp_protect, ctx, rtp, rtp_len, srtp, srtp_len, SRTP_MAX_TRAILER_LEN);
}
inline srtp_err_status_t srtp_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtp_len, uint8_t* rtp, size_t* rtp_len)
{
	return ms_srtp_shim::run(::srtp_unprotect, ctx, srtp, srtp_len, rtp, rtp_len, 0);
}
inline srtp_err_status_t srtp_protect_rtcp(
  srtp_t ctx, const uint8_t* rtcp, size_t rtcp_len, uint8_t* srtcp, size_t* srtcp_len, size_t /*mki_index*/)
{
	return ms_srtp_shim::run(
	  ::srtp_protect_rtcp, ctx, rtcp, rtcp_len, srtcp, srtcp_len, SRTP_MAX_TRAILER_LEN);
}
inline srtp_err_status_t srtp_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcp_len, uint8_t* rtcp, size_t* rtcp_len)
{
	return ms_srtp_shim::run(::srtp_unprotect_rtcp, ctx, srtcp, srtcp_len, rtcp, rtcp_len, 0);
}

/* libsrtp3 renamed srtp_remove_stream(); both take the SSRC in network order. */
inline srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
	return ::srtp_remove_stream(session, ssrc);
}

#endif /* __cplusplus */
#endif /* MS_SHIM_SRTP_COMPAT_H */
