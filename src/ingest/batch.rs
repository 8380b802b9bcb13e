//! Size-or-interval batching, shared by both writers so that `*_BATCH_SIZE` and
//! `*_BATCH_FLUSH_INTERVAL` mean the same for each.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

/// Gathers items from `input` (which arrive in chunks) until at least `size` are held, or
/// `interval` has passed since the first arrived, or the input closes. `None` once the input is
/// closed and drained.
pub async fn next_batch<T>(
    input: &mut mpsc::Receiver<Vec<T>>,
    size: usize,
    interval: Duration,
) -> Option<Vec<T>> {
    let mut batch = input.recv().await?;
    let deadline = Instant::now() + interval;
    while batch.len() < size {
        match tokio::time::timeout_at(deadline, input.recv()).await {
            Ok(Some(more)) => batch.extend(more),
            // Closed: hand out what we have; the next call returns None.
            Ok(None) | Err(_) => break,
        }
    }
    Some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn flushes_on_size() {
        let (sender, mut receiver) = mpsc::channel(8);
        for chunk in [vec![1, 2], vec![3, 4], vec![5]] {
            sender.send(chunk).await.unwrap();
        }
        drop(sender);
        assert_eq!(
            next_batch(&mut receiver, 3, Duration::from_secs(60)).await,
            Some(vec![1, 2, 3, 4])
        );
        assert_eq!(
            next_batch(&mut receiver, 3, Duration::from_secs(60)).await,
            Some(vec![5])
        );
        assert_eq!(
            next_batch(&mut receiver, 3, Duration::from_secs(60)).await,
            None
        );
    }

    #[tokio::test(start_paused = true)]
    async fn flushes_a_partial_batch_after_the_interval() {
        let (sender, mut receiver) = mpsc::channel(8);
        sender.send(vec![1]).await.unwrap();
        let started = Instant::now();
        let batch = next_batch(&mut receiver, 100, Duration::from_secs(2)).await;
        assert_eq!(batch, Some(vec![1]));
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(2),
            "waited exactly the flush interval"
        );
        drop(sender);
    }
}
